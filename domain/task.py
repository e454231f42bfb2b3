"""A one-off background task and its state machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from domain.errors import IllegalTransition
from domain.retry import Retry


class TaskStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def ended(self) -> bool:
        return self in ENDED


ENDED = frozenset({TaskStatus.FINISHED, TaskStatus.FAILED, TaskStatus.CANCELED})
ACTIVE = frozenset({TaskStatus.QUEUED, TaskStatus.RUNNING})

# The legal moves; any other raises IllegalTransition.
TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.QUEUED: frozenset({TaskStatus.RUNNING, TaskStatus.FAILED, TaskStatus.CANCELED}),
    TaskStatus.RUNNING: frozenset(
        {TaskStatus.FINISHED, TaskStatus.FAILED, TaskStatus.QUEUED, TaskStatus.CANCELED}
    ),
    TaskStatus.FINISHED: frozenset(),
    TaskStatus.FAILED: frozenset({TaskStatus.QUEUED}),
    TaskStatus.CANCELED: frozenset({TaskStatus.QUEUED}),
}


class AttemptOutcome(str, Enum):
    FINISHED = "finished"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass
class Attempt:
    """One execution of a task by a worker."""

    number: int
    worker: str | None
    started_at: datetime
    ended_at: datetime | None = None
    outcome: AttemptOutcome | None = None
    error: str | None = None


def normalize_result(value: Any) -> dict | None:
    """A dict is stored as it is; anything else as {"result": value}."""
    if value is None:
        return {"result": None}
    if isinstance(value, dict):
        return value
    return {"result": value}


@dataclass(eq=False)
class Task:
    """A task row. Identity is the id; `version` guards every status write (compare-and-set)."""

    name: str
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    description: str = ""
    queue: str = "default"
    timeout: int | None = None
    retry_policy: Retry | None = None
    owner: str | None = None
    id: int | None = None
    status: TaskStatus = TaskStatus.QUEUED
    progress: int = 0
    result: dict | None = None
    log: str = ""
    attempts: int = 0
    # Attempts already used before the current round of automatic retries
    # (a user retry starts a new round with the full policy).
    retry_base: int = 0
    created_at: datetime | None = None
    enqueued_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    worker: str | None = None
    history: list[Attempt] = field(default_factory=list)
    version: int = 0

    def __eq__(self, other):
        return isinstance(other, Task) and self.id is not None and self.id == other.id

    def __hash__(self):
        return hash(("task", self.id))

    # -- state machine -------------------------------------------------

    def _move(self, requested: TaskStatus, reason: str = "") -> None:
        if requested not in TRANSITIONS[self.status]:
            raise IllegalTransition("task", self.id, self.status, requested, reason)
        self.status = requested
        self.version += 1

    def note(self, now: datetime, line: str) -> None:
        """Appends a timestamped line to the log."""
        entry = f"[{now.isoformat(timespec='seconds')}] {line}"
        self.log = f"{self.log}\n{entry}" if self.log else entry

    def mark_enqueued(self, now: datetime) -> None:
        if self.status is not TaskStatus.QUEUED:
            raise IllegalTransition("task", self.id, self.status, TaskStatus.QUEUED, "only a queued task is enqueued")
        self.enqueued_at = now

    def start(self, worker: str | None, now: datetime) -> Attempt:
        self._move(TaskStatus.RUNNING)
        self.attempts += 1
        self.worker = worker
        self.started_at = now
        self.ended_at = None
        self.progress = 0
        attempt = Attempt(number=self.attempts, worker=worker, started_at=now)
        self.history.append(attempt)
        self.note(now, f"attempt {self.attempts} started" + (f" on {worker}" if worker else ""))
        return attempt

    def finish(self, result: Any, now: datetime) -> None:
        self._move(TaskStatus.FINISHED)
        self.result = normalize_result(result)
        self.progress = 100
        self.ended_at = now
        self._close_attempt(AttemptOutcome.FINISHED, now)
        self.note(now, f"attempt {self.attempts} finished")

    @property
    def retries_left(self) -> int:
        allowed = self.retry_policy.max if self.retry_policy else 0
        used = max(self.attempts - self.retry_base - 1, 0)
        return max(allowed - used, 0)

    def next_retry_delay(self) -> float | None:
        """Seconds before the next automatic retry, or None when the policy allows no more."""
        if self.status is not TaskStatus.RUNNING or self.retries_left <= 0:
            return None
        return self.retry_policy.delay_before(self.attempts - self.retry_base)

    def fail(self, error: str, now: datetime) -> None:
        """Ends the task failed (a running attempt failed for good, or the queue refused it)."""
        self._move(TaskStatus.FAILED)
        self.ended_at = now
        if self._close_attempt(AttemptOutcome.FAILED, now, error):
            self.note(now, f"attempt {self.attempts} failed: {error}")
        else:
            self.note(now, f"failed: {error}")

    def requeue_for_retry(self, error: str, now: datetime) -> float:
        """A failed attempt with retries left: back to queued. Returns the delay before the retry."""
        delay = self.next_retry_delay()
        if delay is None:
            raise IllegalTransition("task", self.id, self.status, TaskStatus.QUEUED, "no retries left")
        self._move(TaskStatus.QUEUED)
        self._close_attempt(AttemptOutcome.FAILED, now, error)
        self.note(now, f"attempt {self.attempts} failed: {error}")
        self.note(now, f"retrying in {delay:g} s ({self.retries_left - 1} retries left after it)")
        self.enqueued_at = now
        return delay

    def record_failure(self, error: str, now: datetime) -> float | None:
        """Fails the running attempt; requeues it when the policy allows. Returns the retry delay or None."""
        if self.next_retry_delay() is not None:
            return self.requeue_for_retry(error, now)
        self.fail(error, now)
        return None

    def cancel(self, now: datetime, reason: str = "canceled by user") -> None:
        self._move(TaskStatus.CANCELED)
        self.ended_at = now
        self._close_attempt(AttemptOutcome.CANCELED, now, reason)
        self.note(now, reason)

    def retry(self, now: datetime) -> None:
        """A user re-runs a failed or canceled task; the retry policy starts afresh."""
        self._move(TaskStatus.QUEUED)
        self.retry_base = self.attempts
        self.result = None
        self.progress = 0
        self.started_at = None
        self.ended_at = None
        self.enqueued_at = None
        self.note(now, "retried by user")

    def set_progress(self, percent: int) -> None:
        if self.status is not TaskStatus.RUNNING:
            raise IllegalTransition("task", self.id, self.status, self.status, "progress is only kept while running")
        self.progress = clamp_progress(percent)

    def _close_attempt(self, outcome: AttemptOutcome, now: datetime, error: str | None = None) -> bool:
        if not self.history or self.history[-1].ended_at is not None:
            return False
        attempt = self.history[-1]
        attempt.ended_at = now
        attempt.outcome = outcome
        attempt.error = error
        return True


def clamp_progress(percent) -> int:
    if isinstance(percent, bool) or not isinstance(percent, (int, float)) or percent != percent:
        raise ValueError(f"progress must be a number from 0 to 100, got {percent!r}")
    return int(min(max(percent, 0), 100))
