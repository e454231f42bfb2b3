"""Queues as a client sees them: pause and resume one, list them with what waits and runs there.

A paused queue's tasks stay queued: no worker starts one until the queue resumes (running ones finish).
The pause is kept with the ledger (QueuePauses), so it outlives worker and Redis restarts; workers read
it through a PauseWatch (at most one read per `every` seconds, and once more when a job they took after a
wait may have been paused meanwhile: rqledger.adapters.rq.worker).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from rqledger.application.errors import AdapterError
from rqledger.application.limits import Limits
from rqledger.application.ports import Clock, QueuePauses, UnitOfWork
from rqledger.domain.errors import InvalidArguments, UnknownQueue
from rqledger.domain.queue import QueuePause
from rqledger.domain.task import PRIORITIES, Task, TaskStatus

log = logging.getLogger(__name__)

MAX_BY = 200
MAX_REASON = 500


@dataclass
class PauseQueue:
    """Pauses a served queue; pausing a paused queue keeps the first pause (and says so by returning it)."""

    pauses: QueuePauses
    clock: Clock
    limits: Limits = field(default_factory=Limits)

    def __call__(self, queue: str, by: str | None = None, reason: str | None = None) -> QueuePause:
        _served(queue, self.limits)
        _text(by, "by", MAX_BY)
        _text(reason, "reason", MAX_REASON)
        return self.pauses.pause(QueuePause(queue, self.clock.now(), by or None, reason or None))


@dataclass
class ResumeQueue:
    """Resumes a paused queue: its waiting tasks are taken again at once. The ended pause, or None."""

    pauses: QueuePauses
    limits: Limits = field(default_factory=Limits)

    def __call__(self, queue: str) -> QueuePause | None:
        _served(queue, self.limits)
        return self.pauses.resume(queue)


@dataclass(frozen=True)
class QueueState:
    """One queue: its pause (None: running), the jobs waiting in Redis per priority (None: Redis did not
    answer), and the ledger's queued and running tasks on it."""

    name: str
    pause: QueuePause | None
    waiting: dict[str, int] | None
    queued: int
    running: int


@dataclass
class ListQueues:
    """The served queues, and any other queue the ledger or Redis still holds tasks of."""

    uow: UnitOfWork
    pauses: QueuePauses
    depth: Callable[[], dict[str, dict[str, int]]]  # queue -> priority -> jobs waiting; raises QueueUnavailable
    limits: Limits = field(default_factory=Limits)

    def __call__(self, strict: bool = False) -> list[QueueState]:
        """`strict`: a Redis that does not answer raises QueueUnavailable (else `waiting` is None)."""
        with self.uow:
            active = self.uow.tasks.count_active_by_queue()
        paused = self.pauses.paused()
        try:
            waiting = self.depth()
        except AdapterError as exc:
            if strict:
                raise
            log.warning("queues listed without their waiting jobs: %s", exc)
            waiting = None
        names = set(self.limits.queues) | {queue for queue, _ in active} | set(paused) | set(waiting or ())
        empty = {p.value: 0 for p in PRIORITIES}
        return [QueueState(name, paused.get(name), None if waiting is None else waiting.get(name, dict(empty)),
                           active.get((name, TaskStatus.QUEUED), 0), active.get((name, TaskStatus.RUNNING), 0))
                for name in sorted(names)]


class PauseWatch:
    """The paused queues as a worker sees them: read at most once per `every` seconds; when the ledger cannot
    be read, the last answer stands (a pause is never dropped because the database blinked)."""

    def __init__(self, pauses: QueuePauses, every: float = 1.0, monotonic: Callable[[], float] = time.monotonic):
        self.pauses = pauses
        self.every = float(every)
        self._monotonic = monotonic
        self._names: frozenset[str] = frozenset()
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def paused(self, fresh: bool = False) -> frozenset[str]:
        """The names of the paused queues; `fresh` reads them now."""
        with self._lock:
            now = self._monotonic()
            if fresh or self._read_at is None or now - self._read_at >= self.every:
                try:
                    self._names = frozenset(self.pauses.paused())
                except AdapterError as exc:
                    log.warning("the paused queues could not be read, the last known stand (%s): %s",
                                ", ".join(sorted(self._names)) or "none", exc)
                self._read_at = now
            return self._names


def waiting_reasons(tasks: list[Task], pauses: QueuePauses) -> dict[int, str]:
    """Task id -> why a queued task of a paused queue does not start. Reads the pauses only when a task is
    queued; a ledger that cannot be read gives no reasons rather than an error."""
    if not any(task.status is TaskStatus.QUEUED for task in tasks):
        return {}
    try:
        paused = pauses.paused()
    except AdapterError:
        return {}
    return {task.id: paused[task.queue].describe() for task in tasks
            if task.status is TaskStatus.QUEUED and task.queue in paused}


def _served(queue: str, limits: Limits) -> None:
    if not isinstance(queue, str) or queue not in limits.queues:
        raise UnknownQueue(str(queue), limits.queues)


def _text(value, name: str, most: int) -> None:
    if value is not None and (not isinstance(value, str) or len(value) > most):
        raise InvalidArguments(f"'{name}' must be text of at most {most} characters", field=name)
