"""LedgerWorker: RQ's Worker, keeping the ledger true when a job fails outside its task function."""

from __future__ import annotations

import ctypes
import os
import signal
import threading
from typing import Collection, Protocol, Sequence

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer
from rq.utils import now
from rq.worker.base import SHUTDOWN_SIGNAL

from adapters.rq.admission import ENTRY_FUNCTIONS, GuardedJob, refusal
from adapters.rq.handoff import AttemptHandoff
from adapters.rq.job import timeout_message
from adapters.rq.outages import RidesOutRedisOutages


class FailureHandler(Protocol):
    def job_failed(self, job, error: str, stopped: bool, worker_name: str | None) -> None:
        """Records a failure RQ saw outside the job's own code; may set job.retries_left/retry_intervals."""


class LedgerHooks(RidesOutRedisOutages):
    """The additions to an RQ worker class (besides riding out Redis outages, see adapters.rq.outages):

    - `handle_job_failure` (called in the work-horse for exceptions, in the parent
      worker for a killed horse or a stop command) first tells each of
      `failure_handlers` (e.g. JobFailures, which ends the row's attempt and aligns
      RQ's retry with the ledger's decision), then lets RQ do its part.
    - `execute_job` runs only rqledger's own jobs (`entry_functions`, JSON, nothing
      foreign attached: see adapters.rq.admission); any other job is failed in RQ,
      logged, and never run, and the worker carries on.

    - with a `handoff` (adapters.rq.handoff), this process writes both ends of each task's
      attempt, before and after the work-horse runs it.

    (Database connections inherited by a work-horse are dropped by the SQL adapter itself.)
    """

    def __init__(self, *args, failure_handlers: Sequence[FailureHandler] = (),
                 entry_functions: Collection[str] = ENTRY_FUNCTIONS, handoff: AttemptHandoff | None = None,
                 **kwargs):
        kwargs.setdefault("serializer", JSONSerializer)
        kwargs.setdefault("job_class", GuardedJob)
        super().__init__(*args, **kwargs)
        self.failure_handlers = list(failure_handlers)
        self.entry_functions = frozenset(entry_functions)
        self.handoff = handoff
        self._horse_death: str | None = None
        self._begun_job_id: str | None = None  # the job whose attempt this process started (handoff)
        self._prepared_job_id: str | None = None  # the job RQ's horse-side bookkeeping was done for here

    def work(self, *args, **kwargs):
        if self.handoff is None:
            return super().work(*args, **kwargs)
        self.handoff.prepare()
        self.handoff.install()
        try:
            return super().work(*args, **kwargs)
        finally:
            self.handoff.close()

    def execute_job(self, job, queue):
        reason = refusal(job, self.entry_functions)
        if reason is not None:
            self._refuse(job, queue, reason)
            return None
        self._begun_job_id = self._prepared_job_id = None
        result = super().execute_job(job, queue)
        if self._begun_job_id == job.id:
            self._begun_job_id = None
            self.handoff.conclude(job)
        return result

    def _begin_attempt(self, job) -> None:
        """RQ's bookkeeping of a started job (STARTED, the worker's name: what a stop command needs), then the
        ledger's start of the attempt, in that order, as a work-horse would do them."""
        if self.handoff is None:
            return
        super(LedgerHooks, self).prepare_job_execution(job, remove_from_intermediate_queue=len(self.queues) == 1)
        self._prepared_job_id = job.id
        if self.handoff.begin(job, self.name):
            self._begun_job_id = job.id

    def prepare_job_execution(self, job, remove_from_intermediate_queue: bool = False):
        if self._prepared_job_id == job.id:
            return  # done by the worker process before the fork (_begin_attempt)
        return super().prepare_job_execution(job, remove_from_intermediate_queue)

    def _refuse(self, job, queue, reason: str) -> None:
        """Fails a job that is not ours in RQ (failed registry, result), without running or unpickling it."""
        self.log.error("Worker %s: job %s refused, not run: %s", self.name, job.id, reason)
        job.retries_left = 0  # a forged job may ask for retries: it gets none
        queue.intermediate_queue.remove(job.id)  # taken off the queue for good (RQ does it when a job starts)
        # RQ's own failure handling only: the ledger's handlers must not act on a job that is not ours
        super(LedgerHooks, self).handle_job_failure(job, queue, exc_string=f"Refused, not run: {reason}")

    def main_work_horse(self, job, queue):
        _set_parent_death_signal(0)  # a work-horse outlives a killed worker: it still records its own outcome
        return super().main_work_horse(job, queue)

    def handle_work_horse_killed(self, job, retpid, ret_val, rusage):
        self._horse_death = _describe_death(job, ret_val)
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)

    def handle_job_failure(self, job, queue, started_job_registry=None, exc_string="", execution=None):
        stopped = self._stopped_job_id == job.id
        error = self._horse_death or _describe_failure(job, exc_string)
        self._horse_death = None
        handlers = self.failure_handlers
        if self.handoff is not None and self.handoff.handed_back(job.id):
            # the attempt's outcome is decided and on its way to the ledger (TaskFailed): nothing to add
            job.retries_left = 0
            handlers = ()
        for handler in handlers:
            try:
                handler.job_failed(job, error, stopped, self.name)
            except Exception:  # the ledger is unreachable: RQ still records the failure, the reconciler the row
                self.log.exception("job %s: the ledger could not record its failure", job.id)
        return super().handle_job_failure(job, queue, started_job_registry=started_job_registry,
                                          exc_string=exc_string, execution=execution)


class LedgerWorker(LedgerHooks, Worker):
    """A forking RQ worker (one work-horse per job) with the ledger hooks; JSON serializer by default.

    RQ's scheduler runs in a child process that would outlive a SIGKILLed worker and
    keep its scheduler locks for good; here it is told to stop when the worker dies.
    """

    def fork_work_horse(self, job, queue):
        self._begin_attempt(job)
        result = super().fork_work_horse(job, queue)
        if self._stopped_job_id == job.id:  # a stop command came while the attempt was being started
            self.kill_horse()
        return result

    def kill_horse(self, sig=SHUTDOWN_SIGNAL):
        if not self.horse_pid:
            # no work-horse yet (the attempt is being started before the fork): RQ would signal this
            # worker's own process group; fork_work_horse stops the horse as soon as it exists
            return
        super().kill_horse(sig)

    def work(self, *args, **kwargs):
        worker_pid = os.getpid()
        os.register_at_fork(after_in_child=lambda: _follow_parent(worker_pid))
        return super().work(*args, **kwargs)

    def request_force_stop(self, signum, frame):
        """A second SIGTERM/SIGINT (cold shutdown): RQ kills the work-horse and leaves its job as it
        was; here the job's failure is handled as for any killed horse, so the row ends (or is requeued
        by its policy) instead of waiting for the reconciler."""
        job = self._job_in_hand()
        try:
            super().request_force_stop(signum, frame)
        except SystemExit:
            if job is not None:
                self._horse_death = "the worker was shut down (cold) while it ran"
                queue = next((q for q in self.queues if q.name == job.origin), None)
                try:
                    self.handle_job_failure(job, queue, exc_string="Cold shutdown: work-horse terminated.",
                                            execution=self.execution)
                except Exception:
                    self.log.exception("job %s: its failure was not recorded at cold shutdown", job.id)
            raise

    def _job_in_hand(self):
        if not self.horse_pid:
            return None
        try:
            return self.get_current_job()
        except Exception:  # Redis is gone too: the reconciler will end the row
            return None


class LedgerSimpleWorker(LedgerHooks, SimpleWorker):
    """The same without forking (jobs run in the worker's own process): for tests and debugging.

    RQ's SimpleWorker sends no heartbeat while a job runs (a forking worker does, between
    its waits on the horse), so the reconciler would judge it dead during any task longer
    than the liveness period: a background thread heartbeats every
    `job_monitoring_interval` seconds while a job runs, and stops with it.
    """

    def prepare_job_execution(self, job, remove_from_intermediate_queue: bool = False):
        if self._prepared_job_id != job.id:
            self._begin_attempt(job)  # RQ's bookkeeping, then the ledger's start (same process: no fork)
        return super().prepare_job_execution(job, remove_from_intermediate_queue)

    def execute_job(self, job, queue):
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat_until, args=(stop,), daemon=True,
                                name=f"heartbeat-{self.name}")
        beat.start()
        try:
            return super().execute_job(job, queue)
        finally:
            stop.set()
            beat.join()

    def _heartbeat_until(self, stop: threading.Event) -> None:
        every = max(1, int(self.job_monitoring_interval))
        while not stop.wait(every):
            try:
                self.heartbeat(every + 60)  # as RQ's own heartbeat while it watches a work-horse
            except Exception:  # never let the thread die silently mid-task: the next beat tries again
                self.log.exception("Worker %s: heartbeat during a job failed", self.name)


def _describe_failure(job, exc_string: str) -> str:
    if "JobTimeoutException" in exc_string:
        return f"{timeout_message(job.timeout)}\n{exc_string.rstrip()}"
    return exc_string.rstrip() or "the job failed outside the task function"


def _describe_death(job, ret_val) -> str:
    how = ""
    if ret_val is not None and os.WIFSIGNALED(ret_val):
        how = f" by signal {os.WTERMSIG(ret_val)}"
    elif ret_val is not None and os.WIFEXITED(ret_val):
        how = f" with exit status {os.WEXITSTATUS(ret_val)}"
    # RQ's parent kills a horse that overruns its timeout by 60 s (e.g. stuck in C code)
    if job.timeout and job.timeout > 0 and job.started_at is not None:
        if (now() - job.started_at).total_seconds() > job.timeout + 60:
            return f"{timeout_message(job.timeout)} (the work-horse was killed{how})"
    return f"the work-horse running it died{how} (killed, or out of memory)"


_PR_SET_PDEATHSIG = 1


def _follow_parent(parent_pid: int) -> None:
    """In a child of the worker (its scheduler): SIGTERM (RQ's graceful stop) when the worker dies."""
    if os.getppid() != parent_pid:
        return  # a grandchild (e.g. a process a task started): not ours to manage
    _set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent_pid:  # the worker died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


def _set_parent_death_signal(signum: int) -> None:
    """Linux prctl(PR_SET_PDEATHSIG); a no-op where it does not exist."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    except (OSError, AttributeError):
        pass
