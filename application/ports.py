"""The ports: what the use cases need from the outside world, in our words."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Protocol, Sequence

from domain.schedule import RunStatus, ScheduledTask, ScheduledTaskInstance, ScheduleStatus
from domain.task import AttemptOutcome, Task, TaskStatus


@dataclass(frozen=True)
class TaskQuery:
    """Filters of a task listing; newest first, `before_id` is the cursor (ids below it)."""

    statuses: frozenset[TaskStatus] = frozenset()
    name: str | None = None
    owner: str | None = None
    limit: int = 50
    before_id: int | None = None
    ended_before: datetime | None = None


@dataclass(frozen=True)
class ScheduleQuery:
    statuses: frozenset[ScheduleStatus] = frozenset()
    name: str | None = None
    limit: int = 50
    before_id: int | None = None


@dataclass(frozen=True)
class Page:
    """One page of a newest-first listing; `next_cursor` is the id to continue below, or None."""

    items: list
    next_cursor: int | None = None


@dataclass
class Histogram:
    """Observations counted per bucket (not cumulative), plus their sum and count.

    `bounds` are the buckets' upper bounds, ascending; a value equal to a bound
    falls in that bucket (Prometheus' `le`), and `counts` has one more entry: +Inf.
    """

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    sum: float = 0.0
    count: int = 0

    def __post_init__(self):
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """(le, count of observations <= le) pairs, ending with +Inf: Prometheus' shape."""
        total, pairs = 0, []
        for bound, n in zip([*(repr(float(b)) for b in self.bounds), "+Inf"], self.counts):
            total += n
            pairs.append((bound, total))
        return pairs


class TaskRepository(Protocol):
    def add(self, task: Task) -> Task:
        """Stores a new task and gives it its id."""

    def add_many(self, tasks: Sequence[Task]) -> list[Task]:
        """Stores new tasks, giving them ids in the order given (as `add` one by one would; SQL: one statement)."""

    def get(self, task_id: int) -> Task:
        """Raises TaskNotFound."""

    def save(self, task: Task) -> None:
        """Writes the task if the stored row still has the version this unit of work read (compare-and-set).

        Raises ConcurrentUpdate, naming the row's current status, when another writer changed it first.
        """

    def track(self, task: Task) -> None:
        """Takes `task` as this unit of work's read of its row, without reading: the next `save` is a
        compare-and-set against `task.version` (for a writer that knows what it last wrote itself)."""

    def delete(self, task_id: int) -> None: ...

    def list(self, query: TaskQuery) -> Page: ...

    def find_active(self, name: str, owner: str | None) -> Task | None:
        """A queued or running task of that type (and owner, when given)."""

    def record_progress(self, task_id: int, attempt: int, percent: int) -> bool:
        """Writes progress if the task is still running that attempt; True when written."""

    def count_by_name_and_status(self) -> dict[tuple[str, TaskStatus], int]:
        """How many tasks of each name are in each status (only pairs that have tasks)."""

    def attempt_durations(self, bounds: Sequence[float]) -> dict[tuple[str, AttemptOutcome], Histogram]:
        """How long the ended attempts of each task name ran, by outcome: seconds counted into `bounds`.

        A duration below zero (a clock stepped back between start and end) counts as zero.
        """


class ScheduleRepository(Protocol):
    def add(self, schedule: ScheduledTask) -> ScheduledTask: ...

    def get(self, schedule_id: int) -> ScheduledTask:
        """Raises ScheduleNotFound."""

    def find(self, name: str, args: list, kwargs: dict) -> ScheduledTask | None:
        """The parent with that natural key."""

    def save(self, schedule: ScheduledTask) -> None: ...

    def delete(self, schedule_id: int) -> None:
        """Deletes the parent and its runs."""

    def list(self, query: ScheduleQuery) -> Page: ...

    def add_run(self, run: ScheduledTaskInstance) -> ScheduledTaskInstance:
        """Records a run; raises DuplicateRun if that parent already has one at that scheduled time."""

    def get_run(self, run_id: int) -> ScheduledTaskInstance: ...

    def save_run(self, run: ScheduledTaskInstance) -> None: ...

    def list_runs(self, schedule_id: int, limit: int = 50, before_id: int | None = None) -> Page: ...

    def delete_run(self, run_id: int) -> None:
        """Deletes one run (retention: `rqledger purge`); the parent and its last_run stay. Raises RunNotFound."""

    def count_by_name_and_status(self) -> dict[tuple[str, ScheduleStatus], int]:
        """How many schedules (parents) of each task name are in each status."""

    def count_runs_by_schedule_and_status(self) -> dict[tuple[int, str, RunStatus], int]:
        """How many runs each schedule has in each status: (schedule id, its task name, status) -> runs."""


class UnitOfWork(Protocol):
    """A transaction boundary: `with uow:` opens one, `commit()` makes it durable, leaving rolls back the rest."""

    tasks: TaskRepository
    schedules: ScheduleRepository

    def __enter__(self) -> "UnitOfWork": ...

    def __exit__(self, *exc) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class TaskQueue(Protocol):
    def enqueue(self, task: Task, delay: float = 0) -> None:
        """Hands the task to the workers (after `delay` seconds). Raises QueueUnavailable."""

    def enqueue_many(self, tasks: Sequence[Task], events: Sequence[dict] = ()) -> list[dict]:
        """Hands several tasks over in one go. Raises QueueUnavailable.

        `events` announce the hand-over: a queue that can send them with the jobs (RQ: in the same
        Redis pipeline, after the jobs) does; it returns those it left for the caller to publish.
        """

    def cancel(self, task: Task) -> None:
        """Withdraws a queued task, or stops a running one. Never raises for a job already gone."""

    def live_progress(self, task_ids: Iterable[int]) -> dict[int, int]:
        """Progress reported by running tasks that may not be in the ledger yet."""


class Scheduler(Protocol):
    def schedule(self, schedule: ScheduledTask) -> str:
        """Creates (or replaces) the one scheduler job of this schedule; returns its id."""

    def cancel(self, schedule: ScheduledTask) -> None: ...


class CronCalendar(Protocol):
    def validate(self, expression: str, timezone: str) -> None:
        """Raises InvalidSchedule naming the field."""

    def next_after(self, expression: str, timezone: str, after: datetime) -> datetime: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in UTC."""


class ProgressSink(Protocol):
    def report(self, percent: int) -> None:
        """Called by set_progress inside a running task."""


class EventPublisher(Protocol):
    def publish(self, event: dict) -> None:
        """A change of a task or run: {"kind", "id", "status", "progress", ...}. Never raises."""

    def publish_many(self, events: Sequence[dict]) -> None:
        """Several events, in order, in one go where the transport allows it. Never raises."""
