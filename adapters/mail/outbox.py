"""A sender for development: each message becomes an .eml file in a folder (open it with any mail client)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

from rqledger.adapters.mail.errors import MailNotSent


class OutboxMailSender:
    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> str:
        """Writes the message as <UTC time>-<random>.eml; returns the file's path."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        partial = path.with_suffix(".eml.part")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(message.as_bytes())
            os.replace(partial, path)  # a reader never sees half a message
        except OSError as exc:
            raise MailNotSent(f"could not write the mail to the outbox folder {self.folder}: {exc}") from None
        return str(path.resolve())
