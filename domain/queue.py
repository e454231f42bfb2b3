"""A queue's pause: while a queue is paused no worker starts its tasks; they wait, queued, until it resumes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class QueuePause:
    """Who paused which queue, when, and why (`by` and `reason` are free text, or None)."""

    queue: str
    paused_at: datetime
    by: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        """One line for a waiting task: `queue 'reports' is paused (since ..., by ...: reason)`."""
        details = f"since {self.paused_at.isoformat(timespec='seconds')}"
        if self.by:
            details += f", by {self.by}"
        if self.reason:
            details += f": {self.reason}"
        return f"queue {self.queue!r} is paused ({details})"
