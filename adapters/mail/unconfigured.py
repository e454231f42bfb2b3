"""The sender when no mail server is set: refuses with what to set, rather than dropping mail silently."""

from email.message import EmailMessage

from rqledger.adapters.mail.errors import MailNotConfigured


class UnconfiguredMailSender:
    def send(self, message: EmailMessage) -> str:
        raise MailNotConfigured("no mail server is configured: set MAIL_SERVER (and MAIL_PORT, MAIL_USERNAME, "
                                "MAIL_PASSWORD, MAIL_USE_TLS), or RQLEDGER_MAIL_OUTBOX to write .eml files "
                                "to a folder")
