"""What the demo tasks take from the running service: the mail sender, the sender address, the media folder,
whether URLs may lead to private addresses.

A task runs inside a worker whose container (built from the environment) is
installed in rqledger.entrypoints.runtime; a plain call outside a worker builds one
from the environment the same way.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Protocol


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Sends (or files) the message; returns where it went (a Message-ID or a file path)."""


def _container():
    from rqledger.entrypoints import runtime  # late: task modules are imported while the container is being built

    return runtime.current()


def mail_sender() -> MailSender:
    return _container().mail_sender()


def mail_from() -> str:
    """MAIL_SENDER: the From address when a task does not give one."""
    return _container().config.mail.sender() or "rqledger@localhost"


def media_dir() -> Path:
    """RQLEDGER_MEDIA_DIR (default ./media): the only folder create_image_set reads and writes."""
    return Path(_container().config.media_dir() or "media")


def fetch_allows_private() -> bool:
    """RQLEDGER_FETCH_ALLOW_PRIVATE (default off): whether a URL may lead to loopback, link-local, private addresses."""
    return bool(_container().config.fetch_allow_private())
