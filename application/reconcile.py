"""The reconciler: converges the ledger and the queue after crashes, restarts and lost messages.

Redis and SQL share no transaction, so they can disagree: a job lost when Redis
restarted without persistence, a process that died between commit and enqueue,
a worker killed mid-task. One pass looks at the active rows and repairs each
disagreement, writing what it did into the row's log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Iterable, Protocol

from rqledger.application.errors import AdapterError
from rqledger.application.events import task_event
from rqledger.application.execution import TaskExecution
from rqledger.application.ports import Clock, EventPublisher, TaskQuery, TaskQueue, UnitOfWork
from rqledger.domain.errors import DomainError, TaskNotFound
from rqledger.domain.task import Task, TaskStatus

log = logging.getLogger(__name__)


class JobState(str, Enum):
    """What the queue knows of a task's job."""

    WAITING = "waiting"  # queued, deferred or scheduled for a retry
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    STOPPED = "stopped"
    CANCELED = "canceled"
    MISSING = "missing"


@dataclass(frozen=True)
class JobReport:
    """A job's state; for a finished one its result, and the attempt it belongs to when the job says so
    (an attempt whose worker could not write its outcome), or `superseded` when its result is no
    outcome at all (a delivery that ran nothing, a late attempt the ledger refused); for a failed
    one RQ's error; for a started one the worker that took it, when the queue knows."""

    state: JobState
    result: object = None
    error: str | None = None
    attempt: int | None = None
    superseded: bool = False
    worker: str | None = None
    ended_at: datetime | None = None  # when the queue saw a finished or failed job end, if it says


class JobInspector(Protocol):
    def inspect(self, task_ids: Iterable[int]) -> dict[int, JobReport]:
        """The queue's view of each task's job (MISSING when it has none)."""

    def live_workers(self) -> set[str] | None:
        """Names of the workers whose heartbeat is current; None while that cannot be told (e.g. the
        queue restarted moments ago and live workers have not registered again yet)."""

    def still_running(self, task_id: int) -> bool:
        """Whether a process still runs the task's job on its own account, whatever its worker's state (a
        work-horse whose worker was killed runs on and records the outcome itself); False when none does."""

    def foreign_jobs(self, known_ids: set[int]) -> list[str]:
        """Job ids that look like ours (numeric) but have no row among `known_ids`."""

    def release_abandoned(self, task_id: int) -> None:
        """Forgets that a dead worker started the task's job, so that the queue's own clean-up of
        abandoned jobs does not later fail the job's new delivery."""


@dataclass
class ReconcileReport:
    requeued: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    orphan_jobs: list[str] = field(default_factory=list)
    unrepaired: dict[int, str] = field(default_factory=dict)  # task id -> why its repair failed (tried again next pass)

    def __bool__(self) -> bool:
        return bool(self.requeued or self.ended or self.retried or self.orphan_jobs or self.unrepaired)


@dataclass
class Reconcile:
    uow: UnitOfWork
    queue: TaskQueue
    inspector: JobInspector
    execution: TaskExecution
    clock: Clock
    events: EventPublisher
    grace: float = 10.0  # seconds a fresh row may go without a job (the enqueue may be in flight)
    batch: int = 500

    def __call__(self) -> ReconcileReport:
        report = ReconcileReport()
        active = self._active_tasks()
        if not active:
            return report
        jobs = self.inspector.inspect(t.id for t in active)
        workers = self.inspector.live_workers()
        cutoff = self.clock.now() - timedelta(seconds=self.grace)
        for task in active:
            job = jobs.get(task.id, JobReport(JobState.MISSING))
            try:
                if task.status is TaskStatus.QUEUED:
                    self._queued(task, job, workers, cutoff, report)
                else:
                    self._running(task, job, workers, cutoff, report)
            except Exception as exc:  # one row that cannot be written never stops the repair of the others
                self._unrepaired(task, exc, report)
        report.orphan_jobs = self.inspector.foreign_jobs({t.id for t in active})
        return report

    def _active_tasks(self) -> list[Task]:
        tasks, cursor = [], None
        with self.uow:
            while True:
                page = self.uow.tasks.list(TaskQuery(statuses=frozenset({TaskStatus.QUEUED, TaskStatus.RUNNING}),
                                                     limit=self.batch, before_id=cursor))
                tasks += page.items
                cursor = page.next_cursor
                if cursor is None:
                    return tasks

    def _queued(self, task: Task, job: JobReport, workers: set[str] | None, cutoff,
                report: ReconcileReport) -> None:
        # waiting: the queue delivers it; started: a worker is taking it right now, unless that worker
        # is dead (it died between taking the job and starting the row: the queue would only give the
        # job up after its own abandoned-job timeout). Missing, or ended in the queue (e.g. a retry whose
        # write reached the ledger but whose answer was lost): nothing would ever deliver it again.
        abandoned = (job.state is JobState.STARTED and workers is not None and job.worker is not None
                     and job.worker not in workers)
        if (job.state is JobState.WAITING or (job.state is JobState.STARTED and not abandoned)
                or (task.enqueued_at or task.created_at) > cutoff):
            return
        if abandoned and self._still_running(task):
            return  # its worker died, but the work-horse it forked runs on: it starts the attempt (or refuses) itself
        if self._moved_on(task):
            return
        if abandoned:
            why = f"its job was taken by worker {job.worker}, which died before starting it (no heartbeat)"
        elif job.state is JobState.MISSING:
            why = "its job was missing from the queue"
        else:
            why = f"its job had ended ({job.state.value}) in the queue without a new delivery"
        try:
            if abandoned:
                self.inspector.release_abandoned(task.id)
        except AdapterError:
            return  # the queue is down again: the next pass tries again
        self._note(task.id, f"the reconciler re-enqueued it: {why}")
        try:
            self.queue.enqueue(task)
        except AdapterError:
            return  # the queue is still down: the next pass tries again
        report.requeued.append(task.id)

    def _running(self, task: Task, job: JobReport, workers: set[str] | None, cutoff,
                 report: ReconcileReport) -> None:
        attempt = task.attempts
        if job.state is JobState.FINISHED and (job.superseded or job.attempt not in (None, attempt)):
            # no outcome of this attempt (another attempt's, or a delivery that ran nothing): the
            # attempt belongs to its worker, judged by its heartbeat as for a started job
            job = JobReport(JobState.STARTED)
        if (job.state in (JobState.FINISHED, JobState.FAILED) and workers is not None and task.worker in workers
                and job.ended_at is not None and job.ended_at > cutoff):
            # its live worker writes the outcome right after its work-horse exits (rqledger.adapters.rq.handoff):
            # only an outcome still unwritten a grace period later is the reconciler's to take
            return
        if job.state is JobState.FINISHED:
            if self._moved_on(task):
                return
            if self.execution.finish(task.id, attempt, job.result):
                self._note(task.id, "the reconciler took the queue's outcome: finished")
                report.ended.append(task.id)
            return
        if job.state is JobState.WAITING:
            return  # the queue will deliver it again (e.g. RQ requeued an abandoned job)
        if job.state in (JobState.STARTED, JobState.MISSING):
            if workers is None:
                return  # live and dead workers cannot be told apart yet: judge on a later pass
            if task.worker in workers and (job.state is JobState.STARTED or not self._overdue(task)):
                # alive and well; or its job was lost with Redis while the work-horse runs on: the worker
                # ends the attempt itself, at the latest when RQ kills the horse for its timeout
                return
        if job.state is JobState.STARTED or (task.started_at or task.created_at) <= cutoff:
            reason = {
                JobState.FAILED: job.error or "its job failed in the queue",
                JobState.STOPPED: "its job was stopped",
                JobState.CANCELED: "its job was canceled in the queue",
                JobState.STARTED: f"its worker {task.worker} is gone (no heartbeat)",
                JobState.MISSING: f"its job is gone from the queue and its worker {task.worker} did not end it",
            }[job.state]
            if self._still_running(task):
                # its worker is gone or its job ended in the queue, but a process still runs the attempt (an
                # orphaned work-horse): it records the outcome itself; ending the attempt now would let a retry
                # run beside it, or fail a run that completes
                return
            if self._moved_on(task):
                return
            outcome = self.execution.fail(task.id, attempt, f"the reconciler ended the attempt: {reason}")
            if outcome is None:
                return
            if outcome.retry_in is not None:
                try:
                    self.queue.enqueue(outcome.task, delay=outcome.retry_in)
                except AdapterError:
                    pass  # left queued without a job: the next pass re-enqueues it
                report.retried.append(task.id)
            else:
                report.ended.append(task.id)

    def _moved_on(self, task: Task) -> bool:
        """Whether the row changed since this pass listed it: read again, the row tells whether the worker
        recorded the outcome itself meanwhile (then the pass has nothing to repair, and no refusal to log)."""
        try:
            with self.uow:
                current = self.uow.tasks.get(task.id)
        except TaskNotFound:
            return True  # deleted meanwhile
        return current.status is not task.status or current.attempts != task.attempts

    def _still_running(self, task: Task) -> bool:
        try:
            return self.inspector.still_running(task.id)
        except AdapterError:
            return True  # cannot be told now (the queue is down again): judge on a later pass

    def _overdue(self, task: Task) -> bool:
        """Past the time by which a live worker must have ended the attempt (RQ kills a work-horse
        60 s after its timeout)."""
        started = task.started_at or task.created_at
        limit = (task.timeout or 0) + 60 + self.grace
        return started + timedelta(seconds=limit) <= self.clock.now()

    def _unrepaired(self, task: Task, error: Exception, report: ReconcileReport) -> None:
        """A row whose repair failed (e.g. a value its database refuses): logged, and marked with a line in its own
        log when that can still be written (once, not once per pass); the next pass tries the repair again."""
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        report.unrepaired[task.id] = reason
        log.warning("reconciler: task %s was not repaired: %s", task.id, reason,
                    exc_info=not isinstance(error, (AdapterError, DomainError, TypeError, ValueError)))
        line = f"the reconciler could not repair it: {reason}"
        try:
            with self.uow:
                if self.uow.tasks.get(task.id).log.endswith(line):
                    return
            self._note(task.id, line)
        except Exception as exc:  # the row refuses even that: the log line above is all there is
            log.warning("reconciler: task %s could not be marked either: %s", task.id, exc)

    def _note(self, task_id: int, line: str) -> None:
        with self.uow:
            task = self.uow.tasks.get(task_id)
            task.note(self.clock.now(), line)
            try:
                self.uow.tasks.save(task)
                self.uow.commit()
            except DomainError:
                return  # the row moved on meanwhile; the note is not worth a retry
        self.events.publish(task_event(task))
