"""A one-off background task and its state machine."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Sequence

from rqledger.domain.errors import DuplicateUniqueTask, IllegalTransition, InvalidArguments
from rqledger.domain.retry import Retry


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


class Priority(str, Enum):
    """Which tasks a worker takes first: every waiting `high` task of its queues before any `normal` one,
    every `normal` before any `low`; within a level, in the order they were queued."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @classmethod
    def parse(cls, value) -> "Priority":
        """A Priority from itself or its name; raises InvalidArguments naming the three."""
        if isinstance(value, Priority):
            return value
        try:
            return cls(value)
        except ValueError:
            raise InvalidArguments(f"'priority' must be one of high, normal, low, got {value!r}",
                                   field="priority") from None


# The order workers take the levels in.
PRIORITIES = (Priority.HIGH, Priority.NORMAL, Priority.LOW)


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


@dataclass(eq=False, repr=False)
class Task:
    """A task row. Identity is the id; `version` guards every status write (compare-and-set)."""

    def __repr__(self) -> str:
        return (f"<Task {self.id} {self.name} {self.status.value} progress={self.progress} "
                f"attempts={self.attempts} owner={self.owner!r}>")

    name: str
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    description: str = ""
    queue: str = "default"
    timeout: int | None = None
    retry_policy: Retry | None = None
    owner: str | None = None
    priority: Priority = Priority.NORMAL
    # Its type was unique when it was enqueued: while queued or running it holds `unique_key`.
    unique: bool = False
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

    @property
    def unique_key(self) -> str | None:
        """The key no other queued or running task may hold, while this one is queued or running (else None).

        Derived from the status, so every transition that ends the task frees it and a user retry
        takes it again; storage refuses a second holder (see `unique_key_of`).
        """
        if not self.unique or self.status not in ACTIVE:
            return None
        return unique_key_of(self.name, self.owner)

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


def unique_key_of(name: str, owner: str | None) -> str:
    """A unique type's key for one owner: at most one queued or running task holds it.

    The tasks of no owner share one key of their own (owner None is not "every owner"). sha256 of
    the canonical JSON [name, owner]: 64 characters, whatever the name and owner hold.
    """
    canonical = json.dumps([name, owner], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def unique_keys(tasks: Sequence["Task"]) -> dict[str, int]:
    """The unique keys `tasks` hold, each with its task's position; two holding one raise DuplicateUniqueTask."""
    keys: dict[str, int] = {}
    for index, task in enumerate(tasks):
        key = task.unique_key
        if key is not None and key in keys:
            raise DuplicateUniqueTask(task.name, task.owner, None, index, keys[key])
        if key is not None:
            keys[key] = index
    return keys


def clamp_progress(percent) -> int:
    if isinstance(percent, bool) or not isinstance(percent, (int, float)) or percent != percent:
        raise ValueError(f"progress must be a number from 0 to 100, got {percent!r}")
    return int(min(max(percent, 0), 100))
