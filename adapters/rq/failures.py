"""The ledger's side of a job failure that the job itself could not record.

RQ reports these to the worker's handle_job_failure: an exception raised outside
the task function (a timeout that struck while the ledger was being written, the
database gone while storing the result), a work-horse that was killed (in the
parent worker), a stop-job command. The row's attempt is ended here, and RQ's
retry is set to agree with the ledger's decision before RQ acts on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from rqledger.adapters.rq.delivery import ATTEMPT_KEY, REDELIVERY_DELAY, retry_interval
from rqledger.application.execution import TaskExecution
from rqledger.application.ports import UnitOfWork
from rqledger.domain.errors import TaskNotFound
from rqledger.domain.task import Task, TaskStatus

log = logging.getLogger("rqledger.worker")


def task_id_of(job) -> int | None:
    """The ledger id behind an RQ job, or None for a job that is not one of our tasks."""
    return int(job.id) if job.id.isdigit() else None


@dataclass
class JobFailures:
    uow: UnitOfWork
    execution: TaskExecution

    def job_failed(self, job, error: str, stopped: bool, worker_name: str | None) -> None:
        """Ends the row's running attempt (canceled when `stopped`, else failed or requeued by its
        retry policy) and sets `job.retries_left` / `job.retry_intervals` so that RQ retries the
        job exactly when the ledger requeued the task."""
        task_id = task_id_of(job)
        if task_id is None:
            return  # not a task of ours (e.g. a schedule's firing): left to RQ and its own handlers
        job.retries_left = 0  # unless the ledger says otherwise below, RQ must not retry on its own
        try:
            with self.uow:
                task = self.uow.tasks.get(task_id)
        except TaskNotFound:
            return
        if task.status is TaskStatus.RUNNING and self._is_this_attempt(job, task, worker_name):
            self._end_attempt(job, task, error, stopped)
        elif task.status is TaskStatus.QUEUED and not stopped:
            # The row waits for a delivery that RQ is about to drop (the work-horse died before
            # the attempt began, or right after the ledger requeued it): deliver it again.
            log.warning("task %s %s: its job failed before an attempt began; delivering it again in %s s",
                        task.id, task.name, REDELIVERY_DELAY)
            _retry(job, REDELIVERY_DELAY)

    def _end_attempt(self, job, task: Task, error: str, stopped: bool) -> None:
        where = f"task {task.id} {task.name} attempt {task.attempts}"
        if stopped:
            self.execution.cancel(task.id, task.attempts, "stopped by a stop-job command")
            log.info("%s canceled: stopped by a stop-job command", where)
            return
        outcome = self.execution.fail(task.id, task.attempts, error)
        first_line = error.splitlines()[0] if error else "failed"
        if outcome is not None and outcome.retry_in is not None:
            log.info("%s failed (%s); retrying in %g s", where, first_line, outcome.retry_in)
            _retry(job, outcome.retry_in)
        elif outcome is not None:
            log.info("%s failed: %s", where, first_line)

    def _is_this_attempt(self, job, task: Task, worker_name: str | None) -> bool:
        attempt = _meta(job).get(ATTEMPT_KEY)
        # the worker that fails a job runs nothing else: a row it is running is this job's attempt
        return attempt == task.attempts or (worker_name is not None and task.worker == worker_name)


def _retry(job, delay: float) -> None:
    job.retries_left = 1
    job.retry_intervals = [retry_interval(delay)]


def _meta(job) -> dict:
    try:
        return job.get_meta(refresh=True)  # the parent worker's copy predates the work-horse's writes
    except Exception:
        return job.meta or {}
