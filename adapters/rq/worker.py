"""LedgerWorker: RQ's Worker, keeping the ledger true when a job fails outside its task function."""

from __future__ import annotations

import ctypes
import math
import os
import signal
import threading
import time
import uuid
from typing import Callable, Collection, Protocol, Sequence

from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer
from rq.utils import now
from rq.worker.base import SHUTDOWN_SIGNAL
from rq.worker import WorkerStatus

from rqledger.adapters.rq.allow_list import ENTRY_FUNCTIONS, GuardedJob, refusal
from rqledger.adapters.rq.failures import task_id_of
from rqledger.adapters.rq.handoff import AttemptHandoff
from rqledger.adapters.rq.delivery import timeout_message
from rqledger.adapters.rq.liveness import LifeSign
from rqledger.adapters.rq.outages import RidesOutRedisOutages
from rqledger.adapters.rq.queue import queue_and_priority

# Seconds a worker waits for a job at a time while any of its queues is paused (a resume is seen within it).
PAUSE_RECHECK = 2
# A job that came within this many seconds of asking is not checked against the pauses again.
PAUSE_FRESH = 0.05


class FailureHandler(Protocol):
    def job_failed(self, job, error: str, stopped: bool, worker_name: str | None) -> None:
        """Records a failure RQ saw outside the job's own code; may set job.retries_left/retry_intervals."""


class LedgerHooks(RidesOutRedisOutages):
    """The additions to an RQ worker class (besides riding out Redis outages, see rqledger.adapters.rq.outages):

    - `handle_job_failure` (called in the work-horse for exceptions, in the parent
      worker for a killed horse or a stop command) first tells each of
      `failure_handlers` (e.g. JobFailures, which ends the row's attempt and aligns
      RQ's retry with the ledger's decision), then lets RQ do its part.
    - `execute_job` runs only rqledger's own jobs (`entry_functions`, JSON, nothing
      foreign attached: see rqledger.adapters.rq.allow_list); any other job is failed in RQ,
      logged, and never run, and the worker carries on.

    - with a `handoff` (rqledger.adapters.rq.handoff), this process writes both ends of each task's
      attempt, before and after the work-horse runs it.

    (Database connections inherited by a work-horse are dropped by the SQL adapter itself.)
    """

    def __init__(self, *args, failure_handlers: Sequence[FailureHandler] = (),
                 entry_functions: Collection[str] = ENTRY_FUNCTIONS, handoff: AttemptHandoff | None = None,
                 limited: Callable[[str], bool] | None = None,
                 paused: Callable[..., Collection[str]] | None = None, **kwargs):
        kwargs.setdefault("serializer", JSONSerializer)
        kwargs.setdefault("job_class", GuardedJob)
        super().__init__(*args, **kwargs)
        self.failure_handlers = list(failure_handlers)
        self.entry_functions = frozenset(entry_functions)
        self.handoff = handoff
        # task types with limits (concurrency, rate): their job body starts the attempt, not the handoff, so
        # that one held back by its limits is answered to RQ as a deferral (rqledger.adapters.rq.delivery)
        self.limited = limited or (lambda name: False)
        # the paused queues (rqledger.application.queues.PauseWatch.paused; `fresh=True` reads them now)
        self.paused = paused
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

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """RQ's, listening only to the queues that are not paused (each queue's high, normal and low RQ queues).

        While a queue is paused the worker waits at most PAUSE_RECHECK seconds at a time, then reads the
        pauses again (a resumed queue is taken up within that); with every queue paused it only keeps its
        heartbeat. A job that arrives after a wait is checked against the pauses read afresh: one taken from
        a queue paused meanwhile goes back to the front of its queue, untouched, and is not run.
        """
        if self.paused is None:
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        every_queue = list(self.queues)
        started = time.monotonic()
        try:
            while True:
                paused = self.paused()
                self._ordered_queues = [q for q in every_queue if queue_and_priority(q.name)[0] not in paused]
                window = timeout
                if paused and timeout is not None:
                    window = min(timeout, PAUSE_RECHECK)
                if max_idle_time is not None:
                    window = max(1, min(window or max_idle_time, math.ceil(max_idle_time - (time.monotonic() - started))))
                waited_from = time.monotonic()
                if not self._ordered_queues:
                    result = self._idle_while_paused(timeout, window)
                else:
                    result = super().dequeue_job_and_maintain_ttl(window, window if paused else max_idle_time)
                if result is not None:
                    job, queue = result
                    if time.monotonic() - waited_from < PAUSE_FRESH or not self._paused_meanwhile(job, queue):
                        return result
                    continue
                if timeout is None or (max_idle_time is not None and time.monotonic() - started >= max_idle_time):
                    return None
        finally:
            self._ordered_queues = every_queue

    def _idle_while_paused(self, timeout, window):
        """Every queue is paused: the heartbeat only, for one window (nothing at all in burst mode)."""
        if timeout is None:
            return None
        self.set_state(WorkerStatus.IDLE)
        self.procline("Paused: " + ",".join(dict.fromkeys(queue_and_priority(q.name)[0] for q in self.queues)))
        self.heartbeat()
        time.sleep(window)
        return None

    def _paused_meanwhile(self, job, queue) -> bool:
        """Whether the job's queue was paused while the worker waited; if so the job goes back to the front."""
        if queue_and_priority(queue.name)[0] not in self.paused(fresh=True):
            return False
        self.log.info("Worker %s: job %s put back: queue %s was paused", self.name, job.id, queue.name)
        with self.connection.pipeline() as pipe:
            pipe.lrem(queue.intermediate_queue_key, 1, job.id)
            pipe.lpush(queue.key, job.id)
            pipe.execute()
        return True

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
        if not self._of_limited_type(job) and self.handoff.begin(job, self.name):
            self._begun_job_id = job.id

    def _of_limited_type(self, job) -> bool:
        try:
            name = job.args[1]
        except Exception:  # not shaped like one of our jobs: the handoff decides
            return False
        return isinstance(name, str) and self.limited(name)

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

    def unsubscribe(self):
        """RQ's, with the pubsub thread told to stop BEFORE the UNSUBSCRIBE whose reply wakes it.

        RQ unsubscribes first and stops the thread after: when the thread reads the reply before
        the stop, it goes back into a 60 s get_message, and redis-py 8.2's stop() joins it with no
        time limit, so a worker took up to a minute to exit (burst, SIGTERM, docker compose stop).
        """
        thread = self.pubsub_thread
        if not thread:
            return
        self.log.info("Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name)
        try:
            thread.stop(timeout=0)  # redis-py >= 8.2: clears the flag; a bounded join comes below
        except TypeError:
            thread.stop()  # older redis-py: stop() only clears the flag
        self.pubsub.unsubscribe()
        thread.join(timeout=1)
        self.pubsub.close()

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

    A work-horse outlives a SIGKILLed worker on purpose: it finishes its task and records the
    outcome itself (a run that completed is never recorded failed), and keeps a sign of life of
    its own meanwhile (rqledger.adapters.rq.liveness.LifeSign), which the reconciler waits for
    before it ends or retries the attempt: never two attempts of a task at once. The sign is
    written here before the fork, so no moment exists where the attempt runs (or is about to)
    without it; the horse renews it, removes it once RQ is told the outcome, and kills itself
    when it overruns the job's timeout by the margin after which RQ's worker would have.
    """

    _life: LifeSign | None = None  # the sign of life of the job being forked for (inherited by its work-horse)

    def fork_work_horse(self, job, queue):
        self._life = self._sign_life_of(job)
        self._begin_attempt(job)
        result = super().fork_work_horse(job, queue)
        if self._stopped_job_id == job.id:  # a stop command came while the attempt was being started
            self.kill_horse()
        return result

    def _sign_life_of(self, job) -> LifeSign | None:
        task_id = task_id_of(job)
        if task_id is None:
            return None  # not a task (a schedule's firing): the reconciler judges nothing by it
        life = LifeSign(self.connection, task_id, f"{self.name}/{uuid.uuid4().hex[:8]}",
                        every=self.job_monitoring_interval, log=self.log)
        life.sign()
        return life

    def main_work_horse(self, job, queue):
        _set_parent_death_signal(0)  # a work-horse outlives a killed worker: it still records its own outcome
        if self._life is not None:
            self._life.keep_up(_overdue_after(job, self._life.every, self.queue_class.DEFAULT_TIMEOUT))
        return super().main_work_horse(job, queue)

    def perform_job(self, job, queue, execution):
        """In the work-horse: RQ's, then the sign of life is removed (the outcome is written and RQ told)."""
        try:
            return super().perform_job(job, queue, execution)
        finally:
            if self._life is not None:
                self._life.end()

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
        beaten = time.monotonic()
        while not stop.wait(1):
            self._while_running()
            if time.monotonic() - beaten < every:
                continue
            beaten = time.monotonic()
            try:
                self.heartbeat(every + 60)  # as RQ's own heartbeat while it watches a work-horse
            except Exception:  # never let the thread die silently mid-task: the next beat tries again
                self.log.exception("Worker %s: heartbeat during a job failed", self.name)

    def _while_running(self) -> None:
        """Called about once a second from the heartbeat thread while a job runs (the pooled child's check)."""


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


def _overdue_after(job, every: float, default_timeout: int) -> float | None:
    """Seconds after which a work-horse kills itself: past the point where RQ's worker kills a horse that
    overran its timeout (timeout + 60 s, seen within one monitoring interval); None for no timeout."""
    timeout = job.timeout or default_timeout
    if timeout is None or timeout < 0:
        return None
    return timeout + 60 + 2 * every


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
