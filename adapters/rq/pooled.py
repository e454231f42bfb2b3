"""The pooled worker's two halves in RQ terms: the child that takes tasks one after another, and what the
supervisor does with the task a child was running when it ended (rqledger.entrypoints.worker_pool runs both).

A child is RQ's SimpleWorker with the ledger's hooks (LedgerSimpleWorker): one long-lived process, its own
Redis and database connections, each task run in it without a fork. What the forking worker gets from a
work-horse per task, a child gets by ending itself, so that no task ever goes on after it should stop:

- a stop command for the task it runs (a cancel, `rq`'s own stop-job) ends the child at once (EXIT_STOPPED);
- a task still running past its timeout by the margin after which RQ kills a work-horse (a task stuck in C
  code, which the in-process timeout cannot interrupt) ends the child (EXIT_OVERRAN);
- after `max_tasks` tasks, or once its RSS passes `max_memory_mb`, it leaves after its task (EXIT_RECYCLED).

The supervisor then settles the task in hand (`settle_lost_job`) as a forking worker settles a dead
work-horse: RQ's failure handling and the ledger's (JobFailures: canceled when stopped, else failed or
retried by the task's policy), and starts a replacement.
"""

from __future__ import annotations

import logging
import os
import resource
import time

from rq.job import JobStatus
from rq.utils import now

from rqledger.adapters.rq.delivery import timeout_message
from rqledger.adapters.rq.worker import LedgerSimpleWorker, _follow_parent, _overdue_after

EXIT_RECYCLED = 3  # left after max_tasks or past max_memory_mb: replace it, even in burst mode
EXIT_STOPPED = 75  # a stop command for its task: the task is settled as stopped
EXIT_OVERRAN = 76  # its task overran its timeout by RQ's margin: settled as timed out

log = logging.getLogger("rqledger.worker")


class LedgerPoolChild(LedgerSimpleWorker):
    """One process of `rqledger worker --concurrency N`: takes tasks one after another, never forks for one."""

    def __init__(self, *args, max_tasks: int | None = None, max_memory_mb: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_tasks = max_tasks
        self.max_memory_mb = max_memory_mb
        self.tasks_done = 0
        self.recycled = False
        self._overdue_at: float | None = None  # monotonic time past which the task in hand ends this process

    def work(self, *args, **kwargs):
        worker_pid = os.getpid()
        os.register_at_fork(after_in_child=lambda: _follow_parent(worker_pid))  # RQ's scheduler dies with it
        return super().work(*args, **kwargs)

    def execute_job(self, job, queue):
        overdue = _overdue_after(job, self.job_monitoring_interval, self.queue_class.DEFAULT_TIMEOUT)
        self._overdue_at = None if overdue is None else time.monotonic() + overdue
        try:
            return super().execute_job(job, queue)
        finally:
            self._overdue_at = None
            self.tasks_done += 1
            self._leave_if_spent()

    def kill_horse(self, sig=None):
        """RQ asks this after a stop command for the job in hand (`_stopped_job_id`): the task cannot be
        interrupted from here, so the process ends, and the supervisor settles the task as stopped."""
        if self._stopped_job_id is not None and self.get_current_job_id() == self._stopped_job_id:
            self.log.info("Worker %s: stop command for job %s: this process ends with it", self.name,
                          self._stopped_job_id)
            self._end(EXIT_STOPPED)

    def _while_running(self) -> None:
        """Ends this process when the task in hand overran its timeout and did not stop (stuck in C code)."""
        overdue_at = self._overdue_at
        if overdue_at is not None and time.monotonic() > overdue_at:
            self.log.error("Worker %s: job %s overran its timeout and did not stop: this process ends with it",
                           self.name, self.get_current_job_id())
            self._end(EXIT_OVERRAN)

    def _end(self, code: int) -> None:
        """Ends this process at once, the outcomes of earlier tasks still written behind written first
        (fast mode); the task in hand is the supervisor's to settle."""
        if self.handoff is not None:
            try:
                self.handoff.close()
            except Exception:
                self.log.exception("Worker %s: outcomes written behind were not all written", self.name)
        _end_now(code)

    def _leave_if_spent(self) -> None:
        reason = None
        if self.max_tasks is not None and self.tasks_done >= self.max_tasks:
            reason = f"{self.tasks_done} tasks done (--max-tasks-per-child {self.max_tasks})"
        elif self.max_memory_mb is not None:
            used = rss_mb()
            if used is not None and used > self.max_memory_mb:
                reason = f"{used:.0f} MB of memory in use (--max-memory-per-child {self.max_memory_mb:g})"
        if reason is not None:
            self.log.info("Worker %s: %s: a fresh process takes over", self.name, reason)
            self.recycled = True
            self._stop_requested = True  # RQ's loop leaves before it takes another job


def settle_lost_job(recorder, reason: str, stopped: bool = False, overran: bool = False) -> list[str]:
    """Settles the job a dead pool child was running, in RQ and in the ledger, as its worker would have.

    `recorder` is a LedgerWorker built with the dead child's name (it reads the child's executions from
    Redis and runs RQ's and the ledger's failure handling under that name); `reason` goes into the row's log
    (a stopped job's says it was stopped, an overrun's says it timed out).
    Returns the ids of the jobs settled. The child's registration is removed, so nobody waits for its
    heartbeat to expire.
    """
    settled = []
    try:
        executions = recorder.get_current_executions(refresh=True)
    except Exception:
        log.exception("worker %s: its running jobs could not be read; the reconciler will end them", recorder.name)
        return settled
    for execution in executions:
        try:
            job = recorder.job_class.fetch(execution.job_id, connection=recorder.connection,
                                           serializer=recorder.serializer)
        except Exception:  # the job is gone from Redis: the reconciler ends its row
            continue
        if job.get_status(refresh=True) in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED,
                                            JobStatus.CANCELED):
            continue  # its outcome was written before the process ended
        queue = next((q for q in recorder.queues if q.name == job.origin), None) or recorder.queue_class(
            job.origin, connection=recorder.connection, serializer=recorder.serializer)
        why = reason
        if stopped:
            recorder._stopped_job_id = job.id
            why = "stopped by a stop-job command"
        elif overran:
            why = f"{timeout_message(job.timeout)} (its worker process was ended)"
        recorder._horse_death = why
        job.ended_at = now()
        recorder.handle_job_failure(job, queue, exc_string=why, execution=execution)
        settled.append(job.id)
    try:
        recorder.register_death()
    except Exception:
        log.exception("worker %s: its registration could not be removed", recorder.name)
    return settled


def describe_exit(status: int) -> str:
    """'died by signal 9 (killed, or out of memory)', 'exited with status 1', from a waitpid status."""
    if os.WIFSIGNALED(status):
        return f"died by signal {os.WTERMSIG(status)} (killed, or out of memory)"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


def rss_mb() -> float | None:
    """This process's resident memory now (Linux /proc), else its peak (getrusage), in MB."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _end_now(code: int) -> None:
    for handler in logging.getLogger().handlers + logging.getLogger("rqledger").handlers:
        try:
            handler.flush()
        except Exception:
            pass
    os._exit(code)
