"""rqledger from Python: `Ledger` enqueues, reads and steers tasks through the same use cases as the HTTP API.

    from rqledger import Ledger
    ledger = Ledger()                                   # DATABASE_URL, REDIS_URL, RQLEDGER_TASK_MODULES
    task = ledger.enqueue("export_posts", args=[42], owner=7)
    ledger.wait(task.id, timeout=30).result

`Ledger.in_memory()` keeps everything in the process and runs each task as soon as it is
enqueued (the memory adapters, the same use cases): for an app's own unit tests.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime
from typing import Any, Iterable, Mapping

from rqledger.adapters.memory import InMemoryWorker
from rqledger.application.ports import Page, TaskQuery
from rqledger.application.queues import QueueState
from rqledger.application.schedules import ScheduleRequest
from rqledger.application.tasks import TaskRequest
from rqledger.domain.errors import InvalidArguments, TaskNotFound
from rqledger.domain.retry import Retry
from rqledger.domain.schedule import ScheduledTask
from rqledger.domain.queue import QueuePause
from rqledger.domain.task import Task, TaskStatus
from rqledger.entrypoints.container import Container, build_container
from rqledger.entrypoints.settings import load_settings

_REQUEST_FIELDS = ("name", "args", "kwargs", "owner", "description", "queue", "priority", "timeout", "retry")


class Ledger:
    """The ledger of one database and one Redis, seen from Python.

    Built from the environment (DATABASE_URL, REDIS_URL, RQLEDGER_TASK_MODULES), each of which
    an argument overrides; or around a container that a process built already (a worker's).
    Errors are rqledger's own (UnknownTaskType, InvalidArguments, DuplicateUniqueTask,
    TaskNotQueued carrying the failed task, TaskNotFound, IllegalTransition, ...).
    """

    def __init__(self, database_url: str | None = None, redis_url: str | None = None,
                 task_modules: Iterable[str] | None = None, *, container: Container | None = None):
        if container is None:
            settings = load_settings()
            if database_url is not None:
                settings["database_url"] = database_url
            if redis_url is not None:
                settings["redis_url"] = redis_url
            if task_modules is not None:
                settings["task_modules"] = _modules(task_modules)
            container = build_container(settings)
        self.container = container
        self._worker: InMemoryWorker | None = None  # in_memory(): runs what is due right after each change
        self._running = threading.local()

    @classmethod
    def in_memory(cls, task_modules: Iterable[str] = ()) -> "Ledger":
        """A ledger in this process only, no database, no Redis: an enqueued task runs at once, in the
        caller's thread, through the same use cases (a retry with a delay runs once it is due and the
        ledger is asked again, e.g. by `wait`)."""
        settings = load_settings({})
        settings.update(storage="memory", queue_backend="memory", task_modules=_modules(task_modules))
        ledger = cls(container=build_container(settings))
        ledger._worker = InMemoryWorker(ledger.container.queue(), ledger.container.run_task(), name="in-memory",
                                        paused=ledger.container.queue_pauses().paused)
        return ledger

    # -- one-off tasks -----------------------------------------------------

    def enqueue(self, name: str, args: list | tuple = (), kwargs: dict | None = None, *,
                owner: str | int | None = None, description: str | None = None, queue: str | None = None,
                priority: str | None = None, timeout: int | None = None, retry: Retry | Mapping | None = None,
                connection=None) -> Task:
        """Validates and enqueues task `name`; returns its row (status queued, or further on in memory).

        With `connection` (a SQLAlchemy Connection, or a Session whose connection is used) the row is
        written in that transaction and the job reaches the queue only once it commits: a rollback
        leaves neither. The ledger's tables must be in that connection's database.
        `priority`: "high", "normal" or "low" (default: the task type's, normal unless @task says otherwise).
        """
        request = TaskRequest(name=name, args=_list(args, "args"), kwargs=_dict(kwargs), description=description,
                              owner=owner, queue=queue, timeout=timeout, retry=_retry(retry), priority=priority)
        if connection is not None:
            return self._enqueue_joined([self.container.enqueue_task().build(request)], connection)[0]
        task = self.container.enqueue_task()(request)
        return self._ran(task)

    def enqueue_many(self, requests: Iterable[Mapping], *, connection=None) -> list[Task]:
        """All or nothing, like POST /api/tasks/batch: each request a dict of enqueue's arguments
        (name, args, kwargs, owner, description, queue, priority, timeout, retry); all are validated first."""
        built = []
        enqueue = self.container.enqueue_task()
        for index, request in enumerate(requests):
            try:
                built.append(enqueue.build(_request(request)))
            except InvalidArguments as exc:
                exc.add_note(f"in enqueue_many, request {index}")
                raise
        if connection is not None:
            return self._enqueue_joined(built, connection)
        return [self._ran(task) for task in enqueue.built(built)]

    def get(self, task_id: int) -> Task:
        """A fresh copy of the task, with the live progress of a running one; TaskNotFound if unknown."""
        self._run_due()
        return self.container.get_task()(_task_id(task_id))

    def wait(self, task_id: int, timeout: float = 30, poll: float = 0.1) -> Task:
        """The task once it ended (finished, failed or canceled); TimeoutError if it has not by `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.get(task_id)
            if task.status.ended:
                return task
            if time.monotonic() >= deadline:
                raise TimeoutError(f"task {task.id} ({task.name}) is still {task.status.value} after {timeout:g} s")
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))

    def tasks(self, owner: str | int | None = None, status: str | Iterable[str] | None = None,
              name: str | None = None, limit: int = 50, cursor: int | None = None) -> Page:
        """One page of tasks, newest first: `.items`, and `.next_cursor` to pass as `cursor` for the next."""
        self._run_due()
        query = TaskQuery(statuses=_statuses(status), name=name, owner=None if owner is None else str(owner),
                          limit=limit, before_id=cursor)
        return self.container.list_tasks()(query)

    def cancel(self, task_id: int) -> Task:
        return self.container.cancel_task()(_task_id(task_id))

    def retry(self, task_id: int) -> Task:
        return self._ran(self.container.retry_task()(_task_id(task_id)))

    def delete(self, task_id: int) -> None:
        self.container.delete_task()(_task_id(task_id))

    # -- schedules ---------------------------------------------------------

    def schedule(self, name: str, args: list | tuple = (), kwargs: dict | None = None, *, cron: str | None = None,
                 at: datetime | None = None, interval: int | None = None, repeat: int | None = None,
                 description: str | None = None, owner: str | int | None = None,
                 catch_up: str = "latest", expect_every: int | None = None,
                 alert_after_failures: int | None = None) -> ScheduledTask:
        """Registers (or revives) the schedule of `name` with these arguments: `cron`, or `at` with an
        optional `interval` (seconds) and `repeat` (runs in all). The same name, args, kwargs and owner
        again give the same schedule, with the new timing and catch-up policy; `owner` is as enqueue's (an
        int is stored as its string). `catch_up` says what happens to firings missed while no scheduler ran
        (each is recorded as a `missed` run): "skip" runs none, "latest" the newest once, now, "all" each.
        `expect_every` (seconds): a run must succeed at least that often, else a schedule.deadman alert opens;
        `alert_after_failures` (default 3): failed runs in a row that open a schedule.failing alert."""
        if cron is None and at is None:
            raise InvalidArguments("a schedule needs cron= or at= (with interval= and repeat= if it repeats)")
        request = ScheduleRequest(name=name, args=_list(args, "args"), kwargs=_dict(kwargs), description=description,
                                  owner=owner, at=at, interval=interval, repeat=repeat, cron=cron, catch_up=catch_up,
                                  expect_every=expect_every, alert_after_failures=alert_after_failures)
        schedule, _created = self.container.register_schedule()(request)
        return schedule

    # -- queues ----------------------------------------------------------------

    def pause_queue(self, queue: str = "default", *, reason: str | None = None, by: str | None = None) -> QueuePause:
        """No worker starts a task of `queue` until it is resumed (running ones finish; the pause outlives
        worker and Redis restarts). Pausing a paused queue keeps, and returns, the first pause."""
        return self.container.pause_queue()(queue, by=by, reason=reason)

    def resume_queue(self, queue: str = "default") -> QueuePause | None:
        """The queue's tasks are taken again; returns the pause that ended (None: it was not paused)."""
        pause = self.container.resume_queue()(queue)
        self._run_due()
        return pause

    def queues(self) -> list[QueueState]:
        """Each queue: `.pause` (None: running), `.waiting` jobs per priority, the ledger's `.queued`, `.running`."""
        return self.container.list_queues()()

    # -- the rest ------------------------------------------------------------

    def set_default(self) -> "Ledger":
        """Makes this the ledger of `my_task.enqueue()` in this process; returns it."""
        set_default_ledger(self)
        return self

    def close(self) -> None:
        """Lets go of the database connections (the pool); the ledger can still be used after."""
        if self.container.config.storage() == "sqlalchemy":
            self.container.database_engine().dispose()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _enqueue_joined(self, built: list[Task], connection) -> list[Task]:
        from rqledger.adapters.sqlalchemy import ledger_execution_options
        from rqledger.adapters.sqlalchemy.joined import JoinedUnitOfWork

        if self.container.config.storage() != "sqlalchemy":
            raise ValueError("enqueue(connection=...) needs the SQL ledger, not the in-memory one")
        joined = JoinedUnitOfWork(connection, ledger_execution_options(self.container.config.db_schema()))
        _refuse_another_database(joined.engine, self.container.database_engine())
        enqueue = self.container.enqueue_task(uow=joined)
        tasks = enqueue.write(built)
        joined.after_commit(lambda: enqueue.hand_over(tasks), visible=lambda: self._stored(tasks[0].id))
        return tasks

    def _stored(self, task_id: int) -> bool:
        try:
            self.container.get_task()(task_id)
        except TaskNotFound:
            return False
        return True

    def _ran(self, task: Task) -> Task:
        """In memory: the task has run by now (if it was due); its row as it is then."""
        if self._worker is None or task.id is None:
            return task
        self._run_due()
        return self.container.get_task()(task.id)

    def _run_due(self) -> None:
        if self._worker is None or getattr(self._running, "now", False):
            return  # a task that enqueues another: the outer loop runs it next
        self._running.now = True
        try:
            self._worker.work()
        finally:
            self._running.now = False


# -- the process's default ledger (what `my_task.enqueue()` uses) -------------

_default: Ledger | None = None
_default_lock = threading.Lock()
_finders: list = []  # () -> Ledger | None, asked first (the Flask extension: the current app's ledger)


def add_default_finder(finder) -> None:
    """`finder()` is asked for the default ledger before the process-wide one (None: it has none to offer)."""
    if finder not in _finders:
        _finders.append(finder)


def set_default_ledger(ledger: Ledger | None) -> None:
    """`my_task.enqueue()` goes to `ledger` from now on (None: back to one made from the environment)."""
    global _default
    _default = ledger


def default_ledger() -> Ledger:
    """The current Flask app's ledger (rqledger.flask); else the one set with set_default_ledger; inside a
    worker, the worker's own; else one made from the environment on first use."""
    global _default
    for finder in _finders:
        found = finder()
        if found is not None:
            return found
    with _default_lock:
        if _default is None:
            from rqledger.entrypoints import runtime

            installed = runtime.installed()
            _default = Ledger(container=installed) if installed is not None else Ledger()
        return _default



def _refuse_another_database(joined, own) -> None:
    """The rows written through the caller's connection must be the ones the ledger reads."""
    def where(engine):
        url = engine.url
        database = url.database or ""
        if url.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
            database = os.path.realpath(database)
        return url.get_backend_name(), url.host, url.port, database

    if where(joined) != where(own):
        raise ValueError(f"enqueue(connection=...) writes to {joined.url.render_as_string(hide_password=True)}, "
                         f"but this ledger reads {own.url.render_as_string(hide_password=True)}: the ledger's "
                         f"tables must be in the connection's database (set DATABASE_URL to it)")


def _request(data: Mapping) -> TaskRequest:
    if not isinstance(data, Mapping):
        raise InvalidArguments(f"each request is a dict of {', '.join(_REQUEST_FIELDS)}, not {type(data).__name__}")
    unknown = sorted(set(data) - set(_REQUEST_FIELDS))
    if unknown:
        raise InvalidArguments(f"unknown request fields {', '.join(unknown)}; known: {', '.join(_REQUEST_FIELDS)}")
    if "name" not in data:
        raise InvalidArguments("a request needs a 'name'", field="name")
    return TaskRequest(name=data["name"], args=_list(data.get("args", ()), "args"), kwargs=_dict(data.get("kwargs")),
                       description=data.get("description"), owner=data.get("owner"), queue=data.get("queue"),
                       timeout=data.get("timeout"), retry=_retry(data.get("retry")), priority=data.get("priority"))


def _modules(modules: Iterable[str] | str) -> list[str]:
    if isinstance(modules, str):
        modules = modules.split(",")
    return [m.strip() for m in modules if m.strip()]


def _list(value, what: str) -> list:
    if not isinstance(value, (list, tuple)):
        raise InvalidArguments(f"'{what}' must be a list or tuple, not {type(value).__name__}", field=what)
    return list(value)


def _dict(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArguments(f"'kwargs' must be a dict, not {type(value).__name__}", field="kwargs")
    return dict(value)


def _retry(value) -> Retry | None:
    if value is None or isinstance(value, Retry):
        return value
    if isinstance(value, Mapping) and set(value) <= {"max", "interval"} and "max" in value:
        try:
            return Retry(max=value["max"], interval=value.get("interval", 0))
        except ValueError as exc:
            raise InvalidArguments(f"'retry': {exc}", field="retry") from None
    raise InvalidArguments("'retry' is a rqledger.Retry or {'max': n, 'interval': seconds}", field="retry")


def _task_id(task_id) -> int:
    if isinstance(task_id, bool) or not isinstance(task_id, int):
        raise InvalidArguments(f"a task id is an integer, not {task_id!r}", field="id")
    return task_id


def _statuses(status) -> frozenset[TaskStatus]:
    if status is None:
        return frozenset()
    values = [status] if isinstance(status, (str, TaskStatus)) else list(status)
    try:
        return frozenset(TaskStatus(value) for value in values)
    except ValueError:
        raise InvalidArguments(f"status must be among {', '.join(s.value for s in TaskStatus)}; got {status!r}",
                               field="status") from None
