"""The ports: what the use cases need from the outside world, in our words."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Protocol, Sequence

from rqledger.domain.alert import Alert, AlertKind, AlertStatus, Delivery
from rqledger.domain.queue import QueuePause
from rqledger.domain.schedule import RunStatus, ScheduledTask, ScheduledTaskInstance, ScheduleStatus
from rqledger.domain.task import AttemptOutcome, Task, TaskStatus


@dataclass(frozen=True)
class TaskQuery:
    """Filters of a task listing; newest first, `before_id` is the cursor (ids below it).

    `created_since` <= created_at < `created_until` (a half-open range). `text` that is a whole number (`search_id`)
    matches the task of that id and no other; any other text matches the tasks that hold it, in any case, in
    their name, arguments (their JSON), result (its JSON), description or log.
    """

    statuses: frozenset[TaskStatus] = frozenset()
    name: str | None = None
    owner: str | None = None
    limit: int = 50
    before_id: int | None = None
    ended_before: datetime | None = None
    queue: str | None = None
    created_since: datetime | None = None
    created_until: datetime | None = None
    text: str | None = None

    @property
    def search_id(self) -> int | None:
        """The task id `text` names (a whole number that fits a 64-bit id), else None."""
        text = (self.text or "").strip()
        return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2**63 else None


@dataclass(frozen=True)
class EndedTask:
    """What the overview's charts need of an ended task (TaskRepository.ended_since)."""

    name: str
    status: TaskStatus
    started_at: datetime | None
    ended_at: datetime


@dataclass(frozen=True)
class ScheduleQuery:
    """Filters of a schedule listing (`owner`: only that owner's, for per-user views); newest first."""

    statuses: frozenset[ScheduleStatus] = frozenset()
    name: str | None = None
    owner: str | None = None
    limit: int = 50
    before_id: int | None = None


@dataclass(frozen=True)
class AlertQuery:
    """Filters of an alert listing; newest first, `before_id` is the cursor."""

    statuses: frozenset[AlertStatus] = frozenset()
    kind: AlertKind | None = None
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
        """Stores a new task and gives it its id.

        Raises DuplicateUniqueTask (at the latest on commit) when another queued or running task
        holds its `unique_key`; the unit of work stays usable."""

    def add_many(self, tasks: Sequence[Task]) -> list[Task]:
        """Stores new tasks, giving them ids in the order given (as `add` one by one would; SQL: one statement).

        A `unique_key` held already, or twice among `tasks`, raises DuplicateUniqueTask naming the
        refused task's position in `tasks`; none of them is stored."""

    def get(self, task_id: int) -> Task:
        """Raises TaskNotFound."""

    def save(self, task: Task) -> None:
        """Writes the task if the stored row still has the version this unit of work read (compare-and-set).

        Raises ConcurrentUpdate, naming the row's current status, when another writer changed it first,
        and DuplicateUniqueTask when a task queued again (a user retry) takes a `unique_key` another holds.
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

    def count_active_by_queue(self) -> dict[tuple[str, TaskStatus], int]:
        """How many queued and running tasks each queue has (only pairs that have tasks)."""

    def failures_by_name(self, since: datetime) -> dict[str, tuple[int, int]]:
        """Per task name: (tasks failed for good that ended at or after `since`, the newest one's id)."""

    def waiting_by_queue(self) -> dict[str, tuple[datetime, int]]:
        """Per queue: (the oldest enqueue time, how many) of its queued tasks that never started an attempt."""

    def attempt_durations(self, bounds: Sequence[float]) -> dict[tuple[str, AttemptOutcome], Histogram]:
        """How long the ended attempts of each task name ran, by outcome: seconds counted into `bounds`.

        A duration below zero (a clock stepped back between start and end) counts as zero.
        """

    def ended_since(self, since: datetime, limit: int, owner: str | None = None) -> list[EndedTask]:
        """Tasks finished, failed or canceled at or after `since` (and `owner`'s only, when given): the newest
        end first, at most `limit` of them (the ended_at index serves it)."""


class ScheduleRepository(Protocol):
    def add(self, schedule: ScheduledTask) -> ScheduledTask: ...

    def get(self, schedule_id: int) -> ScheduledTask:
        """Raises ScheduleNotFound."""

    def find(self, name: str, args: list, kwargs: dict, owner: str | None = None) -> ScheduledTask | None:
        """The parent with that natural key (the owner is part of it: None finds only a schedule of no owner)."""

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

    def last_success(self, schedule_id: int) -> datetime | None:
        """When the schedule's newest finished run ended (None: none finished)."""


class AlertRepository(Protocol):
    def add(self, alert: Alert) -> Alert:
        """Stores a new open alert and gives it its id; raises DuplicateAlert (at the latest on commit) when
        another open alert holds its key."""

    def get(self, alert_id: int) -> Alert:
        """Raises AlertNotFound."""

    def save(self, alert: Alert) -> None:
        """Compare-and-set on the version read; raises ConcurrentUpdate."""

    def open_alerts(self) -> list[Alert]: ...

    def list(self, query: AlertQuery) -> Page: ...

    def add_delivery(self, delivery: Delivery) -> Delivery: ...

    def save_delivery(self, delivery: Delivery) -> None:
        """Compare-and-set on the version read (or tracked); raises ConcurrentUpdate."""

    def track_delivery(self, delivery: Delivery) -> None:
        """Takes `delivery` as this unit of work's read of its row: the next save is guarded by its version."""

    def due_deliveries(self, now: datetime, limit: int = 100) -> list[Delivery]:
        """Pending deliveries whose time came, and sending ones whose claim ran out; oldest first."""

    def deliveries_of(self, alert_ids: Sequence[int]) -> dict[int, list[Delivery]]: ...


class UnitOfWork(Protocol):
    """A transaction boundary: `with uow:` opens one, `commit()` makes it durable, leaving rolls back the rest."""

    tasks: TaskRepository
    schedules: ScheduleRepository
    alerts: AlertRepository

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


class TriggerStore(Protocol):
    """The scheduler's own record of when each schedule fires next (rq-scheduler's storage), for RepairTriggers."""

    def triggers(self) -> list:
        """Every stored job: each with `job_id` and `trigger` (None: not one of ours; else its `schedule_id`,
        `timing` and `catch_up`). Raises QueueUnavailable."""

    def trigger_id(self, schedule_id: int) -> str:
        """The id the trigger of that schedule is stored under."""

    def remove(self, job_id: str) -> None: ...

    def restore(self, schedule: ScheduledTask):
        """Writes the trigger that continues the schedule where the ledger says it stands; None (and no trigger)
        when it will not fire again."""


class RunJobs(Protocol):
    """The queue's view of schedule runs' jobs and of the workers, for EndStuckRuns. Raises QueueUnavailable."""

    def why_over(self, run: ScheduledTaskInstance) -> str | None:
        """Why the run's job is over although the run is still running (failed, stopped, finished without
        recording it), or None."""

    def live_workers(self) -> set[str] | None:
        """The names of the workers alive now (None: unknown)."""


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


class QueuePauses(Protocol):
    """Which queues are paused: kept with the ledger (it outlives worker and Redis restarts)."""

    def paused(self) -> dict[str, QueuePause]:
        """Queue name -> its pause. Raises StorageUnavailable."""

    def pause(self, pause: QueuePause) -> QueuePause:
        """Pauses `pause.queue` unless it is paused already; returns the pause in force (the earlier one
        when it was). Raises StorageUnavailable."""

    def resume(self, queue: str) -> QueuePause | None:
        """Ends the queue's pause; returns it, or None when the queue was not paused."""


class AlertSender(Protocol):
    def send(self, target: str, body: bytes, headers: dict[str, str]) -> None:
        """Delivers `body` to `target` (a webhook URL); returns once acknowledged (2xx). Raises DeliveryFailed."""


class Limiter(Protocol):
    """The shared counters behind per-type limits (rqledger.application.limits_gate): leases on slots in pools,
    and rate windows. One Limiter serves every worker that shares it. Raises QueueUnavailable when unreachable."""

    def acquire(self, pools: Sequence[tuple[str, int | None]], holder: str, lease: float) -> tuple[str, int] | None:
        """Takes a slot for `holder` in every pool (key, size; None: unbounded) for `lease` seconds, all or none.

        Leases past their expiry are dropped first; a holder already in a pool keeps its slot. None when
        taken, else (key, slots in use) of the first pool that is full."""

    def renew(self, keys: Sequence[str], holder: str, lease: float) -> None:
        """Extends `holder`'s leases in those pools to `lease` seconds from now (taking them again if lost)."""

    def release(self, keys: Sequence[str], holder: str) -> None:
        """Drops `holder`'s leases in those pools; a lease not held is no error."""

    def take(self, key: str, count: int, per: float) -> float:
        """Counts a start in the window `key`, if fewer than `count` started in the last `per` seconds: 0.
        Else counts nothing and returns the seconds until the oldest start leaves the window."""

    def in_use(self, keys: Sequence[str]) -> list[int]:
        """Unexpired leases in each pool."""
