"""In-memory repositories and unit of work.

Entities are deep-copied on the way in and out, so a use case that forgets to
save loses its change (as it would on SQL), and changes only land on commit.
Every save is a compare-and-set on the version the unit of work read, and a task's
unique key (Task.unique_key) is held by one task at most, checked when it is written and
again, atomically, at commit (the unique index of the SQL ledger).
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from rqledger.application.ports import AlertQuery, EndedTask, Histogram, Page, ScheduleQuery, TaskQuery
from rqledger.domain.alert import Alert, AlertStatus, Delivery
from rqledger.domain.errors import (AlertNotFound, ConcurrentUpdate, DuplicateAlert, DuplicateRun, DuplicateUniqueTask,
                                   RunNotFound, ScheduleNotFound, TaskNotFound)
from rqledger.domain.schedule import RunStatus, ScheduledTask, ScheduledTaskInstance, ScheduleStatus, natural_key
from rqledger.domain.task import ACTIVE, AttemptOutcome, Task, TaskStatus, unique_keys

_DELETED = object()
_ENDED = (TaskStatus.FINISHED, TaskStatus.FAILED, TaskStatus.CANCELED)


@dataclass
class InMemoryStore:
    """The committed state, shared by every unit of work built on it."""

    tasks: dict[int, Task] = field(default_factory=dict)
    schedules: dict[int, ScheduledTask] = field(default_factory=dict)
    runs: dict[int, ScheduledTaskInstance] = field(default_factory=dict)
    alerts: dict[int, Alert] = field(default_factory=dict)
    deliveries: dict[int, Delivery] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: dict = field(default_factory=lambda: {k: itertools.count(1)
                                                for k in ("task", "schedule", "run", "alert", "delivery")})
    writes: int = 0  # committed row writes, for tests that count them

    def next_id(self, kind: str) -> int:
        with self.lock:
            return next(self._ids[kind])

    def reset(self) -> None:
        with self.lock:
            self.tasks.clear()
            self.schedules.clear()
            self.runs.clear()
            self.alerts.clear()
            self.deliveries.clear()
            self.writes = 0


class _Pending:
    """The changes of one open unit of work: table -> id -> entity (or _DELETED); plus versions read."""

    def __init__(self):
        self.rows: dict[str, dict[int, object]] = {"tasks": {}, "schedules": {}, "runs": {}, "alerts": {},
                                                    "deliveries": {}}
        self.read_versions: dict[tuple[str, int], int] = {}


class InMemoryTaskRepository:
    def __init__(self, uow: "InMemoryUnitOfWork"):
        self._uow = uow

    def add(self, task: Task) -> Task:
        return self.add_many([task])[0]

    def add_many(self, tasks: Sequence[Task]) -> list[Task]:
        self._uow._refuse_taken_keys(tasks)
        for task in tasks:
            task.id = self._uow.store.next_id("task")
            self._uow._stage("tasks", task.id, task, expected=None)
        return list(tasks)

    def get(self, task_id: int) -> Task:
        task = self._uow._read("tasks", task_id)
        if task is None:
            raise TaskNotFound(task_id)
        return task

    def save(self, task: Task) -> None:
        self._uow._refuse_taken_keys([task])
        self._uow._save_versioned("tasks", task, "task")

    def track(self, task: Task) -> None:
        self._uow._pending().read_versions[("tasks", task.id)] = task.version

    def delete(self, task_id: int) -> None:
        self.get(task_id)
        self._uow._stage("tasks", task_id, _DELETED, expected=None)

    def list(self, query: TaskQuery) -> Page:
        rows = [t for t in self._uow._all("tasks") if _task_matches(t, query)]
        return _page(rows, query.limit)

    def find_active(self, name: str, owner: str | None) -> Task | None:
        for task in self._uow._all("tasks"):
            if task.name == name and task.status in ACTIVE and (owner is None or task.owner == owner):
                return task
        return None

    def record_progress(self, task_id: int, attempt: int, percent: int) -> bool:
        store = self._uow.store
        with store.lock:
            task = store.tasks.get(task_id)
            if task is None or task.status is not TaskStatus.RUNNING or task.attempts != attempt:
                return False
            task.progress = percent  # a narrow write outside the version guard, like the SQL one
            store.writes += 1
            return True

    def count_by_name_and_status(self) -> dict[tuple[str, TaskStatus], int]:
        return dict(Counter((task.name, task.status) for task in self._uow._all("tasks")))

    def failures_by_name(self, since) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for task in self._uow._all("tasks"):
            if task.status is TaskStatus.FAILED and task.ended_at is not None and task.ended_at >= since:
                count, newest = found.get(task.name, (0, 0))
                found[task.name] = (count + 1, max(newest, task.id))
        return found

    def waiting_by_queue(self) -> dict:
        found: dict = {}
        for task in self._uow._all("tasks"):
            if task.status is TaskStatus.QUEUED and task.attempts == 0 and task.enqueued_at is not None:
                oldest, count = found.get(task.queue, (task.enqueued_at, 0))
                found[task.queue] = (min(oldest, task.enqueued_at), count + 1)
        return found

    def count_active_by_queue(self) -> dict[tuple[str, TaskStatus], int]:
        return dict(Counter((task.queue, task.status) for task in self._uow._all("tasks") if task.status in ACTIVE))

    def attempt_durations(self, bounds: Sequence[float]) -> dict[tuple[str, AttemptOutcome], Histogram]:
        histograms: dict[tuple[str, AttemptOutcome], Histogram] = {}
        for task in self._uow._all("tasks"):
            for attempt in task.history:
                if attempt.ended_at is not None and attempt.outcome is not None:
                    seconds = max(0.0, (attempt.ended_at - attempt.started_at).total_seconds())
                    histograms.setdefault((task.name, attempt.outcome), Histogram(tuple(bounds))).observe(seconds)
        return histograms


    def ended_since(self, since, limit: int, owner: str | None = None) -> list[EndedTask]:
        ended = [EndedTask(t.name, t.status, t.started_at, t.ended_at) for t in self._uow._all("tasks")
                 if t.status in _ENDED and t.ended_at is not None and t.ended_at >= since
                 and (owner is None or t.owner == owner)]
        return sorted(ended, key=lambda e: e.ended_at, reverse=True)[:max(limit, 0)]


class InMemoryScheduleRepository:
    def __init__(self, uow: "InMemoryUnitOfWork"):
        self._uow = uow

    def add(self, schedule: ScheduledTask) -> ScheduledTask:
        schedule.id = self._uow.store.next_id("schedule")
        self._uow._stage("schedules", schedule.id, schedule, expected=None)
        return schedule

    def get(self, schedule_id: int) -> ScheduledTask:
        schedule = self._uow._read("schedules", schedule_id)
        if schedule is None:
            raise ScheduleNotFound(schedule_id)
        return schedule

    def find(self, name: str, args: list, kwargs: dict, owner: str | None = None) -> ScheduledTask | None:
        wanted = natural_key(name, args, kwargs, owner)
        for schedule in self._uow._all("schedules"):
            if schedule.natural_key == wanted:
                return schedule
        return None

    def save(self, schedule: ScheduledTask) -> None:
        self._uow._save_versioned("schedules", schedule, "schedule")

    def delete(self, schedule_id: int) -> None:
        self.get(schedule_id)
        self._uow._stage("schedules", schedule_id, _DELETED, expected=None)
        for run in self._uow._all("runs"):
            if run.schedule_id == schedule_id:
                self._uow._stage("runs", run.id, _DELETED, expected=None)

    def list(self, query: ScheduleQuery) -> Page:
        rows = [
            s for s in self._uow._all("schedules")
            if (not query.statuses or s.status in query.statuses)
            and (query.name is None or s.name == query.name)
            and (query.owner is None or s.owner == query.owner)
            and (query.before_id is None or s.id < query.before_id)
        ]
        return _page(rows, query.limit)

    def add_run(self, run: ScheduledTaskInstance) -> ScheduledTaskInstance:
        for other in self._uow._all("runs"):
            if other.schedule_id == run.schedule_id and other.scheduled_at == run.scheduled_at:
                raise DuplicateRun(run.schedule_id, run.scheduled_at)
        run.id = self._uow.store.next_id("run")
        self._uow._stage("runs", run.id, run, expected=None)
        return run

    def get_run(self, run_id: int) -> ScheduledTaskInstance:
        run = self._uow._read("runs", run_id)
        if run is None:
            raise RunNotFound(run_id)
        return run

    def save_run(self, run: ScheduledTaskInstance) -> None:
        self._uow._stage("runs", run.id, run, expected=None)

    def list_runs(self, schedule_id: int, limit: int = 50, before_id: int | None = None) -> Page:
        rows = [r for r in self._uow._all("runs")
                if r.schedule_id == schedule_id and (before_id is None or r.id < before_id)]
        return _page(rows, limit)

    def delete_run(self, run_id: int) -> None:
        self.get_run(run_id)
        self._uow._stage("runs", run_id, _DELETED, expected=None)

    def count_by_name_and_status(self) -> dict[tuple[str, ScheduleStatus], int]:
        return dict(Counter((schedule.name, schedule.status) for schedule in self._uow._all("schedules")))

    def last_success(self, schedule_id: int):
        ended = [run.ended_at for run in self._uow._all("runs")
                 if run.schedule_id == schedule_id and run.status is RunStatus.FINISHED and run.ended_at is not None]
        return max(ended, default=None)

    def count_runs_by_schedule_and_status(self) -> dict[tuple[int, str, RunStatus], int]:
        names = {schedule.id: schedule.name for schedule in self._uow._all("schedules")}
        return dict(Counter((run.schedule_id, names[run.schedule_id], run.status)
                            for run in self._uow._all("runs") if run.schedule_id in names))


class InMemoryAlertRepository:
    def __init__(self, uow: "InMemoryUnitOfWork"):
        self._uow = uow

    def add(self, alert: Alert) -> Alert:
        self._uow._refuse_open_alert_key(alert)
        alert.id = self._uow.store.next_id("alert")
        self._uow._stage("alerts", alert.id, alert, expected=None)
        return alert

    def get(self, alert_id: int) -> Alert:
        alert = self._uow._read("alerts", alert_id)
        if alert is None:
            raise AlertNotFound(alert_id)
        return alert

    def save(self, alert: Alert) -> None:
        self._save("alerts", alert, AlertNotFound)

    def open_alerts(self) -> list[Alert]:
        return sorted((a for a in self._uow._all("alerts") if a.status is AlertStatus.OPEN), key=lambda a: a.id)

    def list(self, query: AlertQuery) -> Page:
        rows = [a for a in self._uow._all("alerts")
                if (not query.statuses or a.status in query.statuses) and (query.kind is None or a.kind is query.kind)
                and (query.before_id is None or a.id < query.before_id)]
        return _page(rows, query.limit)

    def add_delivery(self, delivery: Delivery) -> Delivery:
        delivery.id = self._uow.store.next_id("delivery")
        self._uow._stage("deliveries", delivery.id, delivery, expected=None)
        return delivery

    def save_delivery(self, delivery: Delivery) -> None:
        self._save("deliveries", delivery, lambda i: ConcurrentUpdate("delivery", i, "deleted", delivery.status))

    def track_delivery(self, delivery: Delivery) -> None:
        self._uow._pending().read_versions[("deliveries", delivery.id)] = delivery.version

    def due_deliveries(self, now, limit: int = 100) -> list[Delivery]:
        due = [d for d in self._uow._all("deliveries") if d.due(now)]
        return sorted(due, key=lambda d: (d.next_attempt_at, d.id))[:limit]

    def deliveries_of(self, alert_ids) -> dict[int, list[Delivery]]:
        found = {alert_id: [] for alert_id in alert_ids}
        for delivery in sorted(self._uow._all("deliveries"), key=lambda d: d.id):
            if delivery.alert_id in found:
                found[delivery.alert_id].append(delivery)
        return found

    def _save(self, table: str, row, not_found) -> None:
        pending = self._uow._pending()
        read = pending.read_versions.get((table, row.id))
        with self._uow.store.lock:
            current = getattr(self._uow.store, table).get(row.id)
        if current is None and row.id not in pending.rows[table]:
            raise not_found(row.id)
        if current is not None and read is not None and current.version != read:
            raise ConcurrentUpdate(table[:-1], row.id, current.status, row.status)
        self._uow._stage(table, row.id, row, expected=read)


class InMemoryUnitOfWork:
    """`with uow:` opens a transaction (per thread); `commit()` applies it to the store atomically."""

    def __init__(self, store: InMemoryStore | None = None):
        self.store = store or InMemoryStore()
        self._local = threading.local()
        self.tasks = InMemoryTaskRepository(self)
        self.schedules = InMemoryScheduleRepository(self)
        self.alerts = InMemoryAlertRepository(self)
        self.commits = 0

    def __enter__(self) -> "InMemoryUnitOfWork":
        self._local.pending = _Pending()
        return self

    def __exit__(self, *exc) -> None:
        self.rollback()

    def commit(self) -> None:
        pending = self._pending()
        store = self.store
        with store.lock:
            for (table, row_id), version in pending.read_versions.items():
                row = pending.rows[table].get(row_id)
                current = getattr(store, table).get(row_id)
                if row is not None and row is not _DELETED and current is not None and current.version != version:
                    raise ConcurrentUpdate(table[:-1], row_id, current.status, row.status)
            staged = [row for row in pending.rows["tasks"].values() if row is not _DELETED]
            self._refuse_taken_keys(staged, committed_only=True)
            for alert in pending.rows["alerts"].values():
                if alert is not _DELETED:
                    self._refuse_open_alert_key(alert, committed_only=True)
            for table, rows in pending.rows.items():
                target = getattr(store, table)
                for row_id, row in rows.items():
                    if row is _DELETED:
                        target.pop(row_id, None)
                    else:
                        target[row_id] = copy.deepcopy(row)
                    store.writes += 1
        self.commits += 1
        self._local.pending = _Pending()

    def rollback(self) -> None:
        self._local.pending = _Pending()

    # -- helpers for the repositories ---------------------------------

    def _pending(self) -> _Pending:
        pending = getattr(self._local, "pending", None)
        if pending is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return pending

    def _read(self, table: str, row_id):
        pending = self._pending()
        if row_id in pending.rows[table]:
            row = pending.rows[table][row_id]
            return None if row is _DELETED else copy.deepcopy(row)
        with self.store.lock:
            row = getattr(self.store, table).get(row_id)
            row = copy.deepcopy(row) if row is not None else None
        if row is not None and hasattr(row, "version"):
            pending.read_versions.setdefault((table, row_id), row.version)
        return row

    def _all(self, table: str) -> list:
        pending = self._pending()
        with self.store.lock:
            merged = dict(getattr(self.store, table))
        merged.update(pending.rows[table])
        rows = [copy.deepcopy(r) for r in merged.values() if r is not _DELETED]
        for row in rows:
            if hasattr(row, "version"):
                pending.read_versions.setdefault((table, row.id), _committed_version(self.store, table, row))
        return rows

    def _stage(self, table: str, row_id: int, row, expected) -> None:
        self._pending().rows[table][row_id] = row if row is _DELETED else copy.deepcopy(row)

    def _refuse_taken_keys(self, written: Sequence[Task], committed_only: bool = False) -> None:
        """DuplicateUniqueTask when two of `written` share a unique key, or another task holds one of theirs.

        "Another task": one committed (and not rewritten or deleted by this unit of work), or, unless
        `committed_only`, one staged by this unit of work. `index` is the position in `written`.
        """
        keys = unique_keys(written)
        if not keys:
            return
        mine = {task.id for task in written}
        staged = self._pending().rows["tasks"]
        with self.store.lock:
            others = {row_id: task for row_id, task in self.store.tasks.items() if row_id not in staged}
        if not committed_only:
            others.update({row_id: task for row_id, task in staged.items() if task is not _DELETED})
        holders = {task.unique_key: row_id for row_id, task in others.items()
                   if row_id not in mine and task.unique_key is not None}
        for key, index in keys.items():
            if key in holders:
                task = written[index]
                raise DuplicateUniqueTask(task.name, task.owner, holders[key], index)

    def _refuse_open_alert_key(self, alert: Alert, committed_only: bool = False) -> None:
        """DuplicateAlert when another open alert (committed, or staged here unless `committed_only`) holds its key."""
        if alert.open_key is None:
            return
        staged = self._pending().rows["alerts"]
        with self.store.lock:
            others = {i: a for i, a in self.store.alerts.items() if i not in staged}
        if not committed_only:
            others.update({i: a for i, a in staged.items() if a is not _DELETED})
        if any(other.open_key == alert.open_key for i, other in others.items() if i != alert.id):
            raise DuplicateAlert(alert.key)

    def _save_versioned(self, table: str, row, entity: str) -> None:
        pending = self._pending()
        read = pending.read_versions.get((table, row.id))
        with self.store.lock:
            current = getattr(self.store, table).get(row.id)
        if current is None:
            if row.id in pending.rows[table]:  # added in this unit of work
                self._stage(table, row.id, row, expected=None)
                return
            raise (TaskNotFound if entity == "task" else ScheduleNotFound)(row.id)
        if read is not None and current.version != read:
            raise ConcurrentUpdate(entity, row.id, current.status, row.status)
        self._stage(table, row.id, row, expected=read)


def _committed_version(store: InMemoryStore, table: str, row) -> int:
    with store.lock:
        current = getattr(store, table).get(row.id)
    return current.version if current is not None else row.version


def _task_matches(task: Task, query: TaskQuery) -> bool:
    return ((not query.statuses or task.status in query.statuses)
            and (query.name is None or task.name == query.name)
            and (query.owner is None or task.owner == query.owner)
            and (query.queue is None or task.queue == query.queue)
            and (query.before_id is None or task.id < query.before_id)
            and (query.ended_before is None or (task.ended_at is not None and task.ended_at < query.ended_before))
            and (query.created_since is None or (task.created_at is not None
                                                 and task.created_at >= query.created_since))
            and (query.created_until is None or (task.created_at is not None
                                                 and task.created_at < query.created_until))
            and (not query.text or (task.id == query.search_id if query.search_id is not None
                                    else _holds(task, query.text))))


def _holds(task: Task, text: str) -> bool:
    """The text search: in the JSON the SQL ledger stores (compact, non-ASCII as it is), in any case."""
    def as_json(value) -> str:
        return "" if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    wanted = text.lower()
    return any(wanted in field.lower() for field in (
        task.name, as_json(task.args), as_json(task.kwargs), as_json(task.result), task.description or "",
        task.log or ""))


def _page(rows: list, limit: int) -> Page:
    rows.sort(key=lambda r: r.id, reverse=True)
    items = rows[:limit]
    next_cursor = items[-1].id if len(rows) > limit else None
    return Page(items, next_cursor)
