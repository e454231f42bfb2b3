"""The worker-side steps of a task: start an attempt, record progress, finish or fail it.

Redis and SQL share no transaction, so any step may be delivered twice or late
(an orphaned work-horse, a duplicate delivery): every step names the attempt it
belongs to and is refused, with a line in the log, when the row has moved on.
"""

from __future__ import annotations

import json
import traceback as tb
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

from rqledger.application.events import task_event
from rqledger.application.limits_gate import AttemptGate, Wait, is_waiting_line
from rqledger.application.ports import Clock, EventPublisher, TaskQueue, UnitOfWork
from rqledger.application.progress import reporting_to
from rqledger.application.registry import TaskRegistry
from rqledger.domain.errors import DomainError, IllegalTransition, TaskNotFound, UnknownTaskType
from rqledger.domain.task import Task, TaskStatus


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended: the task as written, and the retry delay when it was requeued."""

    task: Task
    retry_in: float | None = None


def describe_exception(exc: BaseException) -> str:
    """`Type: message` followed by the traceback: what a person needs to see in the log."""
    text = "".join(tb.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    return f"{type(exc).__name__}: {exc}\n{text}"


def ensure_json(value: Any) -> None:
    """Raises TypeError/ValueError for a value JSON cannot hold (NaN and Infinity included)."""
    json.dumps(value, allow_nan=False)


# the verb of an attempt's end, by the status it leaves the task in (for the log's refusal lines)
_VERBS = {TaskStatus.FINISHED: "finish", TaskStatus.FAILED: "fail", TaskStatus.QUEUED: "fail",
          TaskStatus.CANCELED: "cancel"}


@dataclass
class TaskExecution:
    uow: UnitOfWork
    clock: Clock
    events: EventPublisher
    # per-type limits (concurrency, rate): asked before an attempt starts, told when it ends; None: no limits
    gate: AttemptGate | None = None

    def start(self, task_id: int, worker: str | None) -> Task | Wait | None:
        """Marks the task running. None when it must not run (canceled, already running or ended); a Wait
        when its type's limits hold it back for now (it stays queued, its log says why once per wait)."""
        with self.uow:
            task = self.uow.tasks.get(task_id)
            if task.status is not TaskStatus.QUEUED:
                self._note_refusal(task, f"refused to start: the task is {task.status.value}")
                return None
            if self.gate is not None:
                wait = self.gate.admit(task)
                if wait is not None:
                    self._note_wait(task, wait)
                    return replace(wait, task=task)
            try:
                task.start(worker, self.clock.now())
                try:
                    self.uow.tasks.save(task)
                except IllegalTransition:
                    self._release(task, task.attempts)
                    return None  # another delivery of the same job started it first: this one does nothing
                self.uow.commit()
            except BaseException:  # the attempt never began: its slots go back
                self._release(task, task.attempts)
                raise
        self.events.publish(task_event(task))
        return task

    def finish(self, task_id: int, attempt: int, result: Any) -> Outcome | None:
        try:
            ensure_json(result)
        except (TypeError, ValueError) as exc:
            return self.fail(task_id, attempt, f"the result cannot be stored as JSON: {exc}", retry=False)
        return self._end(task_id, attempt, "finish", lambda task, now: task.finish(result, now))

    def fail(self, task_id: int, attempt: int, error: str, retry: bool = True) -> Outcome | None:
        """Fails the attempt: back to queued when the retry policy allows (and `retry`), else failed."""
        delay = []

        def apply(task: Task, now):
            if retry:
                delay.append(task.record_failure(error, now))
            else:
                task.fail(error, now)

        outcome = self._end(task_id, attempt, "fail", apply)
        if outcome is None:
            return None
        return Outcome(outcome.task, delay[0] if delay else None)

    def cancel(self, task_id: int, attempt: int, reason: str) -> Outcome | None:
        return self._end(task_id, attempt, "cancel", lambda task, now: task.cancel(now, reason))

    def _note_wait(self, task: Task, wait: Wait) -> None:
        """One line per waiting stretch: a task already waiting (its last line says so) is not written again."""
        if task.log and is_waiting_line(task.log.rsplit("\n", 1)[-1]):
            return
        task.note(self.clock.now(), wait.reason)
        try:
            self.uow.tasks.save(task)
            self.uow.commit()
        except DomainError:
            return  # the row moved on meanwhile: the next delivery sees it
        self.events.publish(task_event(task))

    def _release(self, task: Task, attempt: int) -> None:
        if self.gate is not None:
            self.gate.release(task, attempt)

    def conclude(self, started: Task, ended: Task) -> Outcome | None:
        """Writes `ended`: the attempt `started` (as `start` wrote it) brought to its end elsewhere, e.g. a
        work-horse that ran the task against a copy of the row. One compare-and-set against the version
        `start` wrote, with no read first. None when the row moved on meanwhile (canceled, ended by the
        reconciler): the refusal is noted in its log, as for a late `finish`. The attempt's slots are freed."""
        try:
            return self._conclude(started, ended)
        finally:
            self._release(started, started.attempts)

    def _conclude(self, started: Task, ended: Task) -> Outcome | None:
        with self.uow:
            self.uow.tasks.track(started)
            try:
                self.uow.tasks.save(ended)
                self.uow.commit()
            except IllegalTransition:
                refused = True
            except TaskNotFound:
                return None  # deleted meanwhile: nothing to record
            else:
                refused = False
        if refused:
            with self.uow:
                try:
                    task = self.uow.tasks.get(started.id)
                except TaskNotFound:
                    return None
                self._note_refusal(task, f"refused a late {_VERBS.get(ended.status, 'write')} from attempt "
                                         f"{started.attempts} "
                                         f"(the task is {task.status.value}, attempt {task.attempts})")
            return None
        self.events.publish(task_event(ended))
        return Outcome(ended)

    def conclude_all(self, attempts: Sequence[tuple[Task, Task]]) -> None:
        """`conclude` for several (started, ended) attempts with one commit for all; when any of them is
        refused (or gone), each is concluded on its own instead, so that the others still land."""
        if len(attempts) == 1:
            self.conclude(*attempts[0])
            return
        try:
            self._conclude_all(attempts)
        finally:
            for started, _ in attempts:
                self._release(started, started.attempts)

    def _conclude_all(self, attempts: Sequence[tuple[Task, Task]]) -> None:
        with self.uow:
            try:
                for started, ended in attempts:
                    self.uow.tasks.track(started)
                    self.uow.tasks.save(ended)
                self.uow.commit()
            except (IllegalTransition, TaskNotFound):
                landed = False
            else:
                landed = True
        if not landed:
            for started, ended in attempts:
                self._conclude(started, ended)
            return
        self.events.publish_many([task_event(ended) for _, ended in attempts])

    def record_progress(self, task_id: int, attempt: int, percent: int) -> bool:
        with self.uow:
            written = self.uow.tasks.record_progress(task_id, attempt, percent)
            self.uow.commit()
        return written

    def _end(self, task_id: int, attempt: int, verb: str, apply: Callable) -> Outcome | None:
        """Ends the attempt (refused when the row moved on); its slots are freed either way: it runs no more."""
        with self.uow:
            task = self.uow.tasks.get(task_id)
            try:
                if task.status is not TaskStatus.RUNNING or task.attempts != attempt:
                    self._note_refusal(task, f"refused a late {verb} from attempt {attempt} "
                                             f"(the task is {task.status.value}, attempt {task.attempts})")
                    return None
                apply(task, self.clock.now())
                try:
                    self.uow.tasks.save(task)
                except IllegalTransition:
                    return None  # another writer won the race; its outcome stands
                self.uow.commit()
            finally:
                self._release(task, attempt)
        self.events.publish(task_event(task))
        return Outcome(task)

    def _note_refusal(self, task: Task, line: str) -> None:
        task.note(self.clock.now(), line)
        try:
            self.uow.tasks.save(task)
            self.uow.commit()
        except DomainError:
            pass  # the row moved on again; the note is not worth a retry


@dataclass
class ThrottledProgress:
    """A ProgressSink that writes to the ledger at most every `interval` seconds, the first time `interval`
    seconds into the attempt: an attempt shorter than that writes no progress at all (its end writes 100),
    so a work-horse running a short task never needs a database connection of its own."""

    execution: TaskExecution
    clock: Clock
    task_id: int
    attempt: int
    interval: float = 2.0
    live: Callable[[int], None] | None = None  # a fast channel (Redis) for the live value
    _last_written: float | None = field(default=None, repr=False)
    _last_value: int = field(default=-1, repr=False)
    writes: int = 0

    def __post_init__(self) -> None:
        if self._last_written is None:
            self._last_written = self.clock.now().timestamp()  # the attempt's start: the interval runs from here

    def report(self, percent: int) -> None:
        if self.live is not None:
            self.live(percent)
        if percent == self._last_value:
            return
        now = self.clock.now().timestamp()
        if now - self._last_written >= self.interval:
            self.flush(percent, now)

    def flush(self, percent: int, now: float | None = None) -> None:
        self.execution.record_progress(self.task_id, self.attempt, percent)
        self.writes += 1
        self._last_value = percent
        self._last_written = now if now is not None else self.clock.now().timestamp()


@dataclass
class RunTask:
    """One delivery of a task to a worker: start, run the registered function, finish or fail, retry."""

    execution: TaskExecution
    registry: TaskRegistry
    queue: TaskQueue
    clock: Clock
    progress_interval: float = 2.0

    def __call__(self, task_id: int, worker: str | None = None) -> Task | None:
        task = self.execution.start(task_id, worker)
        if isinstance(task, Wait):  # held back by its type's limits: it stays queued and comes back later
            self.queue.enqueue(task.task, delay=task.retry_in)
            return None
        if task is None:
            return None
        try:
            task_type = self.registry.get(task.name)
        except UnknownTaskType as exc:
            outcome = self.execution.fail(task.id, task.attempts, str(exc), retry=False)
            return outcome.task if outcome else None
        sink = ThrottledProgress(self.execution, self.clock, task.id, task.attempts, self.progress_interval)
        try:
            with reporting_to(sink):
                result = task_type.func(*task.args, **task.kwargs)
        except Exception as exc:  # the task's own failure: recorded, never raised into the worker
            outcome = self.execution.fail(task.id, task.attempts, describe_exception(exc))
            if outcome and outcome.retry_in is not None:
                self.queue.enqueue(outcome.task, delay=outcome.retry_in)
            return outcome.task if outcome else None
        outcome = self.execution.finish(task.id, task.attempts, result)
        return outcome.task if outcome else None
