"""Use cases on one-off tasks, as a client (HTTP, CLI, Python) drives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from rqledger.application.errors import QueueUnavailable, TaskNotQueued
from rqledger.application.events import task_event
from rqledger.application.limits import Limits
from rqledger.application.ports import Clock, EventPublisher, Page, TaskQuery, TaskQueue, UnitOfWork
from rqledger.application.registry import TaskRegistry
from rqledger.domain.errors import DuplicateUniqueTask, InvalidArguments, TaskStillActive
from rqledger.domain.retry import Retry
from rqledger.domain.task import ACTIVE, Priority, Task, TaskStatus


@dataclass(frozen=True)
class TaskRequest:
    """What a client asks for; anything left None takes the task type's setting."""

    name: str
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    description: str | None = None
    owner: str | None = None
    queue: str | None = None
    timeout: int | None = None
    retry: Retry | None = None
    priority: str | Priority | None = None


def owner_text(owner) -> str | None:
    """Who a task is for, as stored: a string, or an integer (a user id) as its decimal string."""
    if owner is None:
        return None
    if isinstance(owner, int) and not isinstance(owner, bool):
        owner = str(owner)
    if not isinstance(owner, str) or not owner or len(owner) > 200:
        raise InvalidArguments("'owner' must be a string of 1 to 200 characters or an integer", field="owner")
    if owner != owner.strip():
        # MariaDB/MySQL compare 'ann' and 'ann ' as equal: such an owner would see another's tasks in a list
        raise InvalidArguments("'owner' must not begin or end with a space", field="owner")
    return owner


@dataclass
class EnqueueTask:
    """Validates, writes the row first (queued), then hands it to the queue under the row's id."""

    uow: UnitOfWork
    queue: TaskQueue
    registry: TaskRegistry
    clock: Clock
    events: EventPublisher
    limits: Limits = field(default_factory=Limits)

    def __call__(self, request: TaskRequest) -> Task:
        return self.many([request])[0]

    def many(self, requests: Sequence[TaskRequest]) -> list[Task]:
        """All validated first, all rows in one transaction, then one hand-over to the queue."""
        return self.built([self.build(request) for request in requests])

    def built(self, tasks: list[Task]) -> list[Task]:
        """`many` for tasks `build` made already (a caller that validated each request itself, to name
        every refused one): all rows in one transaction, then one hand-over to the queue."""
        self.write(tasks)
        try:
            self.hand_over(tasks)
        except QueueUnavailable as exc:
            failed = self._fail_all(tasks, f"the queue could not take it: {exc}")
            raise TaskNotQueued(failed[0], str(exc)) from exc
        return tasks

    def write(self, tasks: list[Task]) -> list[Task]:
        """The rows, queued, in one unit of work; nothing reaches the queue yet.

        Every refusal (a unique type already active) comes before the first row is written,
        so a unit of work joined to a caller's transaction is never left half written. The
        read here is the friendly first check; the storage holds the rule under races (each
        active task of a unique type holds its key, Task.unique_key) and raises the same
        DuplicateUniqueTask, naming the refused task's index in `tasks`.
        """
        now = self.clock.now()
        for task in tasks:
            task.created_at = now
            task.mark_enqueued(now)
        with self.uow:
            for index, task in enumerate(tasks):
                if task.unique:
                    self._refuse_duplicate(task, index, tasks[:index])
            self.uow.tasks.add_many(tasks)
            self.uow.commit()
        return tasks

    def hand_over(self, tasks: list[Task]) -> None:
        """Gives written rows to the queue under their ids; raises QueueUnavailable, the rows untouched."""
        # the queue announces them with the jobs where it can; what it leaves is ours to publish
        left = self.queue.enqueue_many(tasks, events=[task_event(task) for task in tasks])
        self.events.publish_many(left)

    def build(self, request: TaskRequest) -> Task:
        """The task a request describes, checked against its type and the limits; nothing is stored."""
        task_type = self.registry.get(request.name)
        task_type.check_arguments(request.args, request.kwargs)
        timeout = request.timeout if request.timeout is not None else task_type.timeout
        self.limits.check(queue=request.queue, timeout=request.timeout, retry=request.retry)
        owner = owner_text(request.owner)
        return Task(
            name=task_type.name,
            args=list(request.args),
            kwargs=dict(request.kwargs),
            description=request.description if request.description is not None else task_type.description,
            queue=request.queue or task_type.queue,
            timeout=timeout or self.limits.default_timeout,
            retry_policy=request.retry if request.retry is not None else task_type.retry,
            owner=owner,
            priority=Priority.parse(request.priority) if request.priority is not None else task_type.priority,
            unique=task_type.unique,
        )

    def _refuse_duplicate(self, task: Task, index: int, earlier: list[Task]) -> None:
        """A unique type allows one active task (per owner when one is given), the batch's own included.

        An owner-less one is refused while any task of its type is active, whoever's; the key at
        the database (Task.unique_key) is per owner, the tasks of no owner sharing one of their own.
        """
        refuse_second_active(self.uow, task, index)
        for earlier_index, other in enumerate(earlier):
            if other.unique and other.name == task.name and (task.owner is None or other.owner == task.owner):
                raise DuplicateUniqueTask(task.name, task.owner, None, index, earlier_index)

    def _fail_all(self, tasks: list[Task], reason: str) -> list[Task]:
        now = self.clock.now()
        failed = []
        with self.uow:
            for task in tasks:
                current = self.uow.tasks.get(task.id)
                if current.status is TaskStatus.QUEUED:
                    current.fail(reason, now)
                    self.uow.tasks.save(current)
                failed.append(current)
            self.uow.commit()
        self.events.publish_many([task_event(task) for task in failed])
        return failed


def refuse_second_active(uow: UnitOfWork, task: Task, index: int | None = None) -> None:
    """DuplicateUniqueTask when another task of `task`'s unique type is queued or running (for its owner)."""
    existing = uow.tasks.find_active(task.name, task.owner)
    if existing is not None and existing.id != task.id:
        raise DuplicateUniqueTask(task.name, task.owner, existing.id, index)


@dataclass
class CancelTask:
    """A queued task never runs; a running one is stopped. The row is the truth: it is canceled first."""

    uow: UnitOfWork
    queue: TaskQueue
    clock: Clock
    events: EventPublisher

    def __call__(self, task_id: int, reason: str = "canceled by user") -> Task:
        with self.uow:
            task = self.uow.tasks.get(task_id)
            task.cancel(self.clock.now(), reason)
            self.uow.tasks.save(task)
            self.uow.commit()
        try:
            self.queue.cancel(task)
        except QueueUnavailable:
            pass  # the row is canceled: a worker that picks the job up later refuses to start it
        self.events.publish(task_event(task))
        return task


@dataclass
class RetryTask:
    """A failed or canceled task goes back to queued, keeping its attempts and history."""

    uow: UnitOfWork
    queue: TaskQueue
    clock: Clock
    events: EventPublisher

    def __call__(self, task_id: int) -> Task:
        with self.uow:
            task = self.uow.tasks.get(task_id)
            task.retry(self.clock.now())
            task.mark_enqueued(self.clock.now())
            if task.unique:  # queued again, it takes its type's key back: refused while another holds it
                refuse_second_active(self.uow, task)
            self.uow.tasks.save(task)
            self.uow.commit()
        try:
            self.queue.enqueue(task)
        except QueueUnavailable as exc:
            with self.uow:
                task = self.uow.tasks.get(task_id)
                task.fail(f"the queue could not take it: {exc}", self.clock.now())
                self.uow.tasks.save(task)
                self.uow.commit()
            self.events.publish(task_event(task))
            raise TaskNotQueued(task, str(exc)) from exc
        self.events.publish(task_event(task))
        return task


@dataclass
class DeleteTask:
    """Only an ended task can be deleted."""

    uow: UnitOfWork

    def __call__(self, task_id: int) -> None:
        with self.uow:
            task = self.uow.tasks.get(task_id)
            if task.status in ACTIVE:
                raise TaskStillActive(task_id, task.status)
            self.uow.tasks.delete(task_id)
            self.uow.commit()


@dataclass
class GetTask:
    """One task, with the live progress of a running one."""

    uow: UnitOfWork
    queue: TaskQueue

    def __call__(self, task_id: int) -> Task:
        with self.uow:
            task = self.uow.tasks.get(task_id)
        return with_live_progress([task], self.queue)[0]


@dataclass
class ListTasks:
    """Newest first, filtered, one page at a time."""

    uow: UnitOfWork
    queue: TaskQueue
    limits: Limits = field(default_factory=Limits)

    def __call__(self, query: TaskQuery) -> Page:
        self.limits.check_page(query.limit)
        since, until = query.created_since, query.created_until
        if since is not None and until is not None and since > until:
            raise InvalidArguments(f"'since' ({since.isoformat()}) is after 'until' ({until.isoformat()}): no task "
                                   "can match; swap them", field="since")
        with self.uow:
            page = self.uow.tasks.list(query)
        return Page(with_live_progress(page.items, self.queue), page.next_cursor)


def with_live_progress(tasks: list[Task], queue: TaskQueue) -> list[Task]:
    """Running tasks get the progress their worker reported most recently (the row is throttled)."""
    running = [t.id for t in tasks if t.status is TaskStatus.RUNNING]
    if not running:
        return tasks
    try:
        live = queue.live_progress(running)
    except QueueUnavailable:
        return tasks  # Redis down: the last persisted progress is the best we know
    for t in tasks:
        if t.id in live and t.status is TaskStatus.RUNNING:
            t.progress = max(t.progress, live[t.id])
    return tasks
