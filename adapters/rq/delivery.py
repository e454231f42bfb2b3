"""One delivery of a task inside an RQ work-horse: start the attempt, run the function, end the attempt.

The ledger decides (Task.record_failure applies the task's retry policy); RQ is
told the outcome so that its own view agrees:

- finished: the job returns the stored result (RQ: finished);
- requeued for a retry: the job returns `rq.Retry(interval=<the ledger's delay>)`, so
  RQ reschedules this very job (a worker's scheduler runs it after the interval);
- failed for good: the job raises TaskFailed (RQ: failed, in its FailedJobRegistry);
- refused to start (canceled, already running or ended): the job returns {NOT_STARTED: reason}, runs nothing;
- held back by its type's limits (no concurrency slot, over its rate: rqledger.application.limits_gate): no
  attempt begins, the row stays queued, and RQ is asked to deliver the job again shortly (`rq.Retry`), so the
  worker goes on with other jobs meanwhile; while the attempt runs its slots are renewed from a thread;
- the ledger unreachable before the attempt began: RQ is asked to deliver the job again in a few seconds;
- the outcome refused by the ledger (the row moved on: canceled, or this is a late, orphaned
  attempt): the job returns {SUPERSEDED: reason};
- the ledger unreachable when the outcome is written: the write is tried again with backoff
  for `outcome_patience` seconds (RQLEDGER_OUTCOME_PATIENCE); if it never lands, a value is
  returned as {UNRECORDED: {"attempt": n, "result": value}} (RQ: finished) and a failure is
  raised as OutcomeNotRecorded carrying the task's error (RQ: failed), so the reconciler
  can take the outcome of that very attempt from RQ.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable

from rq import Retry
from rq.timeouts import JobTimeoutException

from rqledger.adapters.rq.limits import LeaseKeeper
from rqledger.adapters.rq.progress import LIVE_INTERVAL, PROGRESS_KEY, LiveProgress
from rqledger.application.events import task_event
from rqledger.application.execution import Outcome, TaskExecution, ThrottledProgress, describe_exception, ensure_json
from rqledger.application.limits_gate import AttemptGate, Wait
from rqledger.application.ports import Clock, EventPublisher
from rqledger.application.progress import reporting_to
from rqledger.application.registry import TaskRegistry
from rqledger.application.errors import AdapterError, StorageUnavailable
from rqledger.domain.errors import TaskNotFound, UnknownTaskType
from rqledger.domain.task import Task, TaskStatus

log = logging.getLogger("rqledger.worker")

ATTEMPT_KEY = "attempt"  # job.meta[ATTEMPT_KEY]: the ledger attempt this job is running
# The RQ result of a delivery that ran nothing (a duplicate, a canceled row): {NOT_STARTED: reason}.
# The reconciler must not take it for the outcome of the row's attempt (see RqJobInspector).
NOT_STARTED = "rqledger_not_started"
# The RQ result of a delivery whose outcome the ledger refused (the row had moved on): {SUPERSEDED: reason}.
# It is no outcome of the row's current attempt either.
SUPERSEDED = "rqledger_superseded"
# The RQ result of an attempt that finished while the ledger stayed unreachable:
# {UNRECORDED: {"attempt": n, "result": value}}; the reconciler finishes attempt n with it.
UNRECORDED = "rqledger_unrecorded"
# A job whose attempt could not begin (ledger unreachable, work-horse lost) is delivered again after this.
REDELIVERY_DELAY = 5


class TaskFailed(Exception):
    """Raised out of a job whose task the ledger failed for good, so RQ records the job as failed too."""

    def __init__(self, task_id: int, summary: str):
        self.task_id = task_id
        super().__init__(f"task {task_id} failed: {summary}")


class OutcomeNotRecorded(Exception):
    """Raised out of a job whose task failed while the ledger stayed unreachable: RQ's failed result
    then carries the task's error, for the reconciler to record on that attempt."""

    def __init__(self, task_id: int, attempt: int, error: str):
        self.task_id = task_id
        self.attempt = attempt
        super().__init__(f"task {task_id} attempt {attempt} failed, and the ledger could not be told: {error}")


@dataclass(frozen=True)
class _Unrecorded:
    """A finished attempt whose result the ledger could not take."""

    value: object


def timeout_message(seconds) -> str:
    return f"timed out after {seconds} s"


def retry_interval(delay: float, now: float | None = None) -> int:
    """Whole seconds to hand RQ so that a retry runs `delay` seconds from now at the earliest.

    RQ schedules at now + interval and then drops the fraction of a second, so a
    plain ceil(delay) could run up to a second early; aiming at the next whole
    second past now + delay never does.
    """
    if delay <= 0:
        return 0
    now = time.time() if now is None else now
    return math.ceil(now + delay) - math.floor(now)


def retry_for_rq(job, delay: float) -> Retry:
    """An rq.Retry that re-runs `job` once, not before `delay` seconds from now."""
    # handle_job_retry fails the job once number_of_retries reaches max: allow exactly one more.
    return Retry(max=(job.number_of_retries or 0) + 1, interval=retry_interval(delay))


def deferred(job, task_id: int, name: str, wait: Wait):
    """The answer to RQ of a delivery held back by its type's limits: deliver it again in about `retry_in` s
    (whole seconds, at least 1; a little early is fine: the limits are checked again then)."""
    log.info("task %s %s: not started yet, %s; asking again in %.1f s", task_id, name, wait.reason, wait.retry_in)
    if job is None:
        return None
    return Retry(max=(job.number_of_retries or 0) + 1, interval=max(1, math.ceil(wait.retry_in)))


@dataclass
class LedgerJob:
    """The body of `rqledger.entrypoints.task_entry.run_task`: one delivery of task `task_id` (registered as `name`)."""

    execution: TaskExecution
    registry: TaskRegistry
    clock: Clock
    events: EventPublisher
    progress_interval: float = 2.0
    live_interval: float = LIVE_INTERVAL
    outcome_patience: float = 30.0  # seconds an outcome write is retried while the ledger is unreachable
    # The attempt as the worker process started it (rqledger.adapters.rq.handoff), or None: this job starts it.
    started: Task | None = None
    # Where the ended Task goes when `started` was given (the worker writes it); progress still goes
    # to the ledger through `progress_execution` (default: `execution`).
    on_ended: Callable[[Task], None] | None = None
    progress_execution: TaskExecution | None = None
    # the per-type limits: a limited attempt's slots are renewed from a thread while its function runs
    gate: AttemptGate | None = None
    _began: float = field(default=0.0, init=False, repr=False)  # monotonic start of the attempt

    def __call__(self, job, task_id: int, name: str):
        if self.started is not None:
            return self._attempt(job, self.started, name, remembered=True)
        try:
            task = self.execution.start(task_id, getattr(job, "worker_name", None))
        except TaskNotFound:
            if not isinstance(name, str) or name not in self.registry:  # forged: RQ records it as failed
                raise TaskFailed(task_id, f"refused, nothing was run: task type {name!r} is not registered "
                                          f"here and the ledger has no such task") from None
            log.info("task %s %s: not started (no such row in the ledger)", task_id, name)
            return {NOT_STARTED: "no such task in the ledger"}
        except StorageUnavailable as exc:
            if job is None:
                raise
            # the ledger is unreachable and the attempt never began: RQ delivers the job again later
            log.warning("task %s %s: not started, the ledger is unreachable (%s); trying again in %s s",
                        task_id, name, exc, REDELIVERY_DELAY)
            return retry_for_rq(job, REDELIVERY_DELAY)
        if task is None:
            return not_started(task_id, name)
        if isinstance(task, Wait):
            return deferred(job, task_id, name, task)
        return self._attempt(job, task, name)

    def _attempt(self, job, task: Task, name: str, remembered: bool = False):
        attempt = task.attempts
        began = self._began = time.monotonic()
        if not remembered:
            self._remember_attempt(job, attempt)
        log.info("task %s %s attempt %s started", task.id, task.name, attempt,
                 extra={"event": "task_started", "task_id": task.id, "task": task.name, "attempt": attempt})
        outcome, cause = self._run(job, task, name)
        if self.on_ended is not None and isinstance(outcome, Outcome):
            self.on_ended(outcome.task)
        return self._answer(job, task, attempt, outcome, cause, time.monotonic() - began)

    def _run(self, job, task: Task, name: str) -> tuple[Outcome | None, BaseException | None]:
        attempt = task.attempts
        if name != task.name:
            error = f"the job names task type {name!r} but task {task.id} is {task.name!r}: nothing was run"
            return self._failed(job, task, error, None, retry=False), None
        try:
            task_type = self.registry.get(task.name)
        except UnknownTaskType as exc:  # the worker does not know it: never guess, fail without running
            return self._failed(job, task, str(exc), None, retry=False), None
        live = None
        if job is not None:
            live = LiveProgress(job, self.live_interval, on_write=lambda p: self._publish_progress(task, p))
        ledger = ThrottledProgress(self.progress_execution or self.execution, self.clock, task.id, attempt,
                                   self.progress_interval)
        progress = _TaskProgress(ledger, live, self.progress_interval)
        leases = self._keep_leases(task)
        try:
            try:
                with reporting_to(progress):
                    value = task_type.func(*task.args, **task.kwargs)
            finally:  # before the end is written: that frees the slots, and no renewal may come after
                if leases is not None:
                    leases.stop()
        except JobTimeoutException as exc:
            seconds = getattr(job, "timeout", None) or task.timeout
            error = f"{timeout_message(seconds)}\n{describe_exception(exc)}"
            return self._failed(job, task, error, exc), exc
        except Exception as exc:  # the task's own failure: the ledger records it and applies the policy
            return self._failed(job, task, describe_exception(exc), exc), exc
        finally:
            if live is not None:
                live.close()
            self._remember_counts(job, progress.reports, ledger.writes)
        return self._finished(job, task, value), None

    def _keep_leases(self, task: Task) -> LeaseKeeper | None:
        if self.gate is None or not self.gate.limits_of(task.name).slots:
            return None
        attempt = task.attempts
        return LeaseKeeper(lambda: self.gate.renew(task, attempt), self.gate.renew_every, log,
                           f"task {task.id} {task.name} attempt {attempt}")

    def _finished(self, job, task: Task, value) -> Outcome | _Unrecorded | None:
        try:
            return self._patiently(job, lambda: self.execution.finish(task.id, task.attempts, value))
        except StorageUnavailable as exc:
            try:
                ensure_json(value)
            except (TypeError, ValueError) as bad:  # RQ could not keep it either
                raise OutcomeNotRecorded(task.id, task.attempts, f"the result cannot be stored as JSON: {bad}") from exc
            log.error("task %s %s attempt %s finished, but the ledger stayed unreachable (%s): the result is "
                      "left in RQ for the reconciler", task.id, task.name, task.attempts, exc)
            return _Unrecorded(value)

    def _failed(self, job, task: Task, error: str, cause, retry: bool = True) -> Outcome | None:
        try:
            return self._patiently(job, lambda: self.execution.fail(task.id, task.attempts, error, retry=retry))
        except StorageUnavailable as exc:
            log.error("task %s %s attempt %s failed, and the ledger stayed unreachable (%s): the error is left in "
                      "RQ for the reconciler", task.id, task.name, task.attempts, exc)
            raise OutcomeNotRecorded(task.id, task.attempts, error) from cause

    def _patiently(self, job, write):
        """Runs `write`, again with growing, jittered pauses while the ledger is unreachable, for up to
        `outcome_patience` seconds, and never past the job's own timeout (RQ would kill the horse)."""
        deadline = time.monotonic() + self.outcome_patience
        timeout = getattr(job, "timeout", None)
        if timeout and timeout > 0:
            deadline = min(deadline, (self._began or time.monotonic()) + timeout - 1)
        pause = 0.2
        while True:
            try:
                return write()
            except StorageUnavailable as exc:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("the ledger is unreachable (%s); writing the outcome again in %.1f s", exc, pause)
                time.sleep(pause * random.uniform(0.8, 1.2))
                pause = min(pause * 2, 3.0)

    def _answer(self, job, task: Task, attempt: int, outcome, cause, seconds: float):
        where = f"task {task.id} {task.name} attempt {attempt}"

        def ended(outcome_name: str) -> dict:  # the fields of the end line, for JSON logs
            return {"extra": {"event": "task_ended", "task_id": task.id, "task": task.name, "attempt": attempt,
                              "outcome": outcome_name, "duration_s": round(seconds, 3)}}

        if outcome is None:
            log.info("%s ended elsewhere (canceled or superseded) after %.2f s", where, seconds, **ended("superseded"))
            return {SUPERSEDED: "the ledger row had moved on: its outcome was refused"}
        if isinstance(outcome, _Unrecorded):
            return {UNRECORDED: {"attempt": attempt, "result": outcome.value}}
        ended_task = outcome.task
        if ended_task.status is TaskStatus.FINISHED:
            log.info("%s finished in %.2f s", where, seconds, **ended("finished"))
            return ended_task.result
        if ended_task.status is TaskStatus.QUEUED and outcome.retry_in is not None:
            log.info("%s failed in %.2f s; retrying in %g s", where, seconds, outcome.retry_in, **ended("retrying"))
            return retry_for_rq(job, outcome.retry_in) if job is not None else None
        summary = _last_error(ended_task)
        log.info("%s %s in %.2f s: %s", where, ended_task.status.value, seconds, summary,
                 **ended(ended_task.status.value))
        if ended_task.status is TaskStatus.FAILED:
            raise TaskFailed(task.id, summary) from cause
        return None

    def _remember_attempt(self, job, attempt: int) -> None:
        if job is None:
            return
        job.meta[ATTEMPT_KEY] = attempt
        job.meta[PROGRESS_KEY] = 0  # the live value of an earlier attempt is stale now
        try:
            job.save_meta()
        except Exception as exc:  # the worker falls back to the row's own attempt number
            log.warning("job %s: meta not saved: %s", job.id, exc)

    def _remember_counts(self, job, reports: int, writes: int) -> None:
        # For people (and tests) who wonder how much set_progress cost the database (a task that never
        # reported progress saves the round trip).
        if job is None or reports == 0:
            return
        job.meta["progress_reports"] = reports
        job.meta["progress_ledger_writes"] = writes
        try:
            job.save_meta()
        except Exception as exc:
            log.warning("job %s: meta not saved: %s", job.id, exc)

    def _publish_progress(self, task: Task, percent: int) -> None:
        event = task_event(task)
        event["progress"] = percent
        self.events.publish(event)


def not_started(task_id: int, name: str) -> dict:
    """The answer to RQ of a delivery whose row was no longer queued: nothing runs."""
    log.info("task %s %s: not started (the ledger row is no longer queued)", task_id, name)
    return {NOT_STARTED: "the ledger row was no longer queued"}


class _TaskProgress:
    """The ProgressSink of a running task: the live channel on every new value, the ledger throttled.

    Progress is bookkeeping: a ledger that cannot take it must not fail the task, so
    its errors are logged and the ledger is left alone for a while (a timeout still
    propagates: JobTimeoutException is no AdapterError).
    """

    REPEAT_CHECK = 0.25

    def __init__(self, ledger: ThrottledProgress, live: LiveProgress | None, pause: float):
        self.ledger = ledger
        self.live = live
        self.pause = pause
        self.reports = 0
        self._last: int | None = None
        self._recheck_at = 0.0
        self._quiet_until = 0.0

    def report(self, percent: int) -> None:
        self.reports += 1
        now = time.monotonic()
        if percent == self._last:
            # nothing new for the live channel (its timer writes a held-back value anyway); the ledger's
            # throttle is asked again at most every REPEAT_CHECK s: a loop reporting every item pays ~nothing
            if now < self._recheck_at:
                return
        else:
            self._last = percent
            if self.live is not None:
                self.live(percent)
        self._recheck_at = now + self.REPEAT_CHECK
        if now < self._quiet_until:
            return
        try:
            self.ledger.report(percent)
        except AdapterError as exc:
            self._quiet_until = time.monotonic() + self.pause
            log.warning("task %s: progress not written to the ledger: %s", self.ledger.task_id, exc)


def _last_error(task: Task) -> str:
    if task.history and task.history[-1].error:
        return task.history[-1].error.splitlines()[0]
    return task.log.splitlines()[-1] if task.log else task.status.value
