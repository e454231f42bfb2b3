"""What can go wrong when sending mail, said in words a person can act on."""

from rqledger.application.errors import AdapterError


class MailNotSent(AdapterError):
    """The mail server refused the message or could not be reached."""


class MailNotConfigured(AdapterError):
    """Neither MAIL_SERVER nor an outbox folder is set."""
