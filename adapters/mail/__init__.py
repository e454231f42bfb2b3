"""Sending mail: SMTP for real deployments, an outbox folder of .eml files for development."""

from rqledger.adapters.mail.errors import MailNotConfigured, MailNotSent
from rqledger.adapters.mail.outbox import OutboxMailSender
from rqledger.adapters.mail.smtp import SmtpMailSender
from rqledger.adapters.mail.unconfigured import UnconfiguredMailSender


def mail_sender_from(settings: dict):
    """The sender the settings ask for: SMTP when a server is named, else the outbox folder, else none.

    `settings` is the "mail" part of rqledger.entrypoints.settings.load_settings().
    """
    if settings.get("server"):
        return SmtpMailSender(
            server=settings["server"],
            port=int(settings.get("port") or 0),
            username=settings.get("username"),
            password=settings.get("password"),
            use_tls=bool(settings.get("use_tls")),
        )
    if settings.get("outbox"):
        return OutboxMailSender(settings["outbox"])
    return UnconfiguredMailSender()


__all__ = ["MailNotConfigured", "MailNotSent", "OutboxMailSender", "SmtpMailSender", "UnconfiguredMailSender",
           "mail_sender_from"]
