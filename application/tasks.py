"""Use cases on one-off tasks, as a client (HTTP, CLI, Python) drives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from application.errors import QueueUnavailable, TaskNotQueued
from application.events import task_event
from application.limits import Limits
from application.ports import Clock, EventPublisher, Page, TaskQuery, TaskQueue, UnitOfWork
from application.registry import TaskRegistry
from domain.errors import DuplicateUniqueTask, InvalidArguments, TaskStillActive
from domain.retry import Retry
from domain.task import ACTIVE, Task, TaskStatus


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
        now = self.clock.now()
        for task in tasks:
            task.created_at = now
            task.mark_enqueued(now)
        with self.uow:
            plain: list[Task] = []  # rows of types that are not unique go in together
            for task in tasks:
                if self.registry.get(task.name).unique:
                    self.uow.tasks.add_many(plain)
                    plain = []
                    self._refuse_duplicate(task, tasks)
                    self.uow.tasks.add(task)
                else:
                    plain.append(task)
            self.uow.tasks.add_many(plain)
            self.uow.commit()
        try:
            # the queue announces them with the jobs where it can; what it leaves is ours to publish
            left = self.queue.enqueue_many(tasks, events=[task_event(task) for task in tasks])
        except QueueUnavailable as exc:
            failed = self._fail_all(tasks, f"the queue could not take it: {exc}")
            raise TaskNotQueued(failed[0], str(exc)) from exc
        self.events.publish_many(left)
        return tasks

    def build(self, request: TaskRequest) -> Task:
        """The task a request describes, checked against its type and the limits; nothing is stored."""
        task_type = self.registry.get(request.name)
        task_type.check_arguments(request.args, request.kwargs)
        timeout = request.timeout if request.timeout is not None else task_type.timeout
        self.limits.check(queue=request.queue, timeout=request.timeout, retry=request.retry)
        if request.owner is not None and (not isinstance(request.owner, str) or len(request.owner) > 200):
            raise InvalidArguments("'owner' must be a string of at most 200 characters", field="owner")
        return Task(
            name=task_type.name,
            args=list(request.args),
            kwargs=dict(request.kwargs),
            description=request.description if request.description is not None else task_type.description,
            queue=request.queue or task_type.queue,
            timeout=timeout or self.limits.default_timeout,
            retry_policy=request.retry if request.retry is not None else task_type.retry,
            owner=request.owner,
        )

    def _refuse_duplicate(self, task: Task, batch: list[Task]) -> None:
        existing = self.uow.tasks.find_active(task.name, task.owner)
        if existing is None:
            existing = next((t for t in batch if t is not task and t.id is not None
                             and t.name == task.name and t.owner == task.owner), None)
        if existing is not None:
            raise DuplicateUniqueTask(task.name, task.owner, existing.id)

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
