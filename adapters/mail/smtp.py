"""An SMTP sender: plain, STARTTLS (MAIL_USE_TLS) or implicit TLS (MAIL_USE_TLS on port 465)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from rqledger.adapters.mail.errors import MailNotSent

IMPLICIT_TLS_PORT = 465


class SmtpMailSender:
    """Opens one connection per message: a worker sends rarely, and a kept connection would go stale."""

    def __init__(self, server: str, port: int = 0, username: str | None = None, password: str | None = None,
                 use_tls: bool = False, timeout: float = 30, ssl_context: ssl.SSLContext | None = None):
        self.server = server
        self.port = port or (587 if use_tls else 25)
        self.username = username
        self.password = password
        self.use_tls = use_tls
        self.timeout = timeout
        # The system's trusted CAs unless a caller (a test, a private CA) brings its own.
        self.ssl_context = ssl_context

    def send(self, message: EmailMessage) -> str:
        """Sends the message; returns its Message-ID. Raises MailNotSent."""
        context = self.ssl_context or ssl.create_default_context()
        try:
            if self.use_tls and self.port == IMPLICIT_TLS_PORT:
                smtp = smtplib.SMTP_SSL(self.server, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.server, self.port, timeout=self.timeout)
            with smtp:
                if self.use_tls and self.port != IMPLICIT_TLS_PORT:
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise MailNotSent(f"{self._where()} refused the login of {self.username!r}: {_reason(exc)}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailNotSent(f"{self._where()} refused every recipient: {', '.join(exc.recipients)}") from None
        except smtplib.SMTPException as exc:
            raise MailNotSent(f"{self._where()} did not take the mail: {_reason(exc)}") from None
        except ssl.SSLError as exc:
            raise MailNotSent(f"TLS with {self._where()} failed: {exc}") from None
        except OSError as exc:
            raise MailNotSent(f"could not reach {self._where()}: {exc or type(exc).__name__}") from None
        if refused:
            raise MailNotSent(f"{self._where()} refused some recipients: {', '.join(sorted(refused))}")
        return message["Message-ID"]

    def _where(self) -> str:
        return f"the mail server {self.server}:{self.port}"


def _reason(exc: smtplib.SMTPException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"
    return str(exc) or type(exc).__name__
