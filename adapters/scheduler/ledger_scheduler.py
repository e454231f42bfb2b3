"""rq-scheduler's Scheduler, adapted to the ledger: one fresh JSON job per firing, exact times, a clean stop.

What is kept of rq-scheduler: its storage (a job hash per scheduled job and the
`rq:scheduler:scheduled_jobs` sorted set scored by due time), its pass
(`enqueue_jobs`), the global lock `rq:scheduler_lock` that lets one of several
scheduler processes run a pass at a time, and its birth/heartbeat/death keys.

What is changed, and why:
- `enqueue_job`: rq-scheduler moves the scheduled job itself onto the queue and
  re-scores it; a periodic job thus reuses one job id for every run, the firing
  time is lost, and overlapping firings overwrite each other. Here the scheduled
  job is a trigger that stays in the set; each due firing enqueues a new job with
  the id `schedule-<id>-<epoch ms>` (`unique=True`) carrying the nominal time, and
  the trigger moves on with a compare-and-set, so two processes that both see the
  same firing (the lock expired under a slow pass) enqueue it once.
- due jobs are read with the exact time, not whole seconds.
- the lock holds a token of its own and is only deleted by its holder (rq-scheduler
  deletes it unconditionally, even after it expired and another process took it).
- SIGTERM/SIGINT set a flag; the current pass ends and the loop exits (rq-scheduler
  raises SystemExit from the signal handler, in the middle of whatever runs).
"""

from __future__ import annotations

import logging
import signal
import time
from collections import deque
from dataclasses import replace
from typing import Callable

from redis import WatchError
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.queue import Queue
from rq.serializers import JSONSerializer
from rq_scheduler import Scheduler

from rqledger.adapters.scheduler.json_job import JSONJob
from rqledger.adapters.scheduler.lock import RedisLock
from rqledger.adapters.scheduler.trigger import META_KEY, Trigger, run_job_id
from rqledger.application.catch_up import DEFAULT_MAX_MISSED, CatchUpPlan, catch_up_grace
from rqledger.application.ports import Clock, CronCalendar

log = logging.getLogger(__name__)


class LedgerScheduler(Scheduler):
    """Fires our triggers. Any other job in rq-scheduler's set is left alone: it may be pickled, and
    nothing here ever unpickles."""

    job_class = JSONJob

    def __init__(self, connection, calendar: CronCalendar, clock: Clock, run_function: str,
                 interval: float = 1.0, name: str | None = None,
                 record_missed: Callable[[int, CatchUpPlan], object] | None = None,
                 max_missed: int = DEFAULT_MAX_MISSED):
        super().__init__(connection=connection, interval=interval, job_class=JSONJob, name=name)
        self.calendar = calendar
        self.clock = clock
        self.run_function = run_function
        # ScheduledRuns.record_missed: a trigger found behind has its missed firings recorded before it moves on
        self.record_missed = record_missed
        self.max_missed = max_missed
        self.grace = catch_up_grace(interval)
        self._stopping = False
        self._lock = RedisLock(connection, self.scheduler_lock_key, ttl=int(interval) + 10, owner=self.name)
        self.fired: deque[str] = deque(maxlen=100)  # the latest run job ids this process enqueued
        self._foreign: set[str] = set()  # jobs of another application already reported

    # --- firing -------------------------------------------------------------------------------

    def get_jobs_to_queue(self, with_times=False):
        """The due jobs, read with the exact time (rq-scheduler rounds down to whole seconds)."""
        due = []
        for raw_id in self.connection.zrangebyscore(self.scheduled_jobs_key, 0, time.time()):
            job_id = raw_id.decode()
            try:
                due.append(JSONJob.fetch(job_id, connection=self.connection))
            except NoSuchJobError:
                self.cancel(job_id)  # a score without its job hash: as rq-scheduler does
            except Exception:  # unreadable as JSON (e.g. pickled): not ours, and never unpickled
                self._report_foreign(job_id)
        return due

    def enqueue_job(self, job):
        data = job.meta.get(META_KEY)
        if not isinstance(data, dict):
            self._report_foreign(job.id)
            return
        trigger = Trigger.from_meta(data)
        now = self.clock.now()
        plan = trigger.catch_up_plan(self.calendar, now, self.grace, self.max_missed)
        if plan is None:
            self._enqueue_run(trigger)
            self._advance(job, data, trigger.after_firing(self.calendar, now))
        else:
            self._catch_up(job, data, trigger, plan)

    def _catch_up(self, job, data: dict, trigger: Trigger, plan: CatchUpPlan) -> None:
        """No scheduler fired this trigger at its time: the missed firings are recorded (a database outage
        raises, and the trigger stays for the next pass), the plan's late firings enqueued, the trigger moved."""
        # enqueued by a scheduler killed before it moved the trigger on: those were not missed
        plan = plan.without(self._enqueued({*plan.missed, *plan.run}, trigger.schedule_id))
        log.warning("scheduler %s: schedule %s is behind since %s (catch_up %s): %d firing(s) recorded missed, "
                    "%d more only counted, %d run late", self.name, trigger.schedule_id, plan.first.isoformat(),
                    plan.policy.value, len(plan.missed), plan.uncounted, len(plan.run))
        if self.record_missed is not None:
            self.record_missed(trigger.schedule_id, plan)
        for scheduled_at in plan.run:
            self._enqueue_run(replace(trigger, next_at=scheduled_at), catching_up=True)
        self._advance(job, data, trigger.after_catch_up(plan))

    def _enqueued(self, slots: set, schedule_id: int) -> set:
        """Those of `slots` whose firing job exists in RQ."""
        ordered = sorted(slots)
        with self.connection.pipeline(transaction=False) as pipe:
            for slot in ordered:
                pipe.exists(JSONJob.key_for(run_job_id(schedule_id, slot)))
            found = pipe.execute()
        return {slot for slot, exists in zip(ordered, found) if exists}

    def _enqueue_run(self, trigger: Trigger, catching_up: bool = False) -> None:
        scheduled_at = trigger.next_at.isoformat()
        job_id = run_job_id(trigger.schedule_id, trigger.next_at)
        queue = Queue(trigger.queue, connection=self.connection, serializer=JSONSerializer)
        try:
            queue.enqueue_call(
                self.run_function, args=[trigger.schedule_id, trigger.name, scheduled_at],
                timeout=trigger.timeout, job_id=job_id, unique=True,
                description=f"run of schedule {trigger.schedule_id} ({trigger.name}) due {scheduled_at}",
                meta={META_KEY: trigger.schedule_id, "scheduled_at": scheduled_at,
                      **({"catch_up": trigger.catch_up.value} if catching_up else {})},
            )
        except DuplicateJobError:
            log.info("firing %s was already enqueued (by another scheduler process): skipped", job_id)
            return
        self.fired.append(job_id)
        log.info("fired %s", job_id)

    def _advance(self, job, data: dict, following: Trigger | None) -> None:
        """Moves the trigger to `following`, or removes it when used up (None), unless it changed meanwhile."""
        with self.connection.pipeline() as pipe:
            try:
                pipe.watch(job.key)
                raw = pipe.hget(job.key, "meta")
                current = JSONSerializer.loads(raw).get(META_KEY) if raw else None
                if current != data:
                    return  # re-registered, canceled or advanced by another process: its state stands
                pipe.multi()
                if following is None:
                    pipe.zrem(self.scheduled_jobs_key, job.id)
                    pipe.delete(job.key)
                else:
                    meta = dict(job.meta, **{META_KEY: following.to_meta()})
                    pipe.hset(job.key, "meta", JSONSerializer.dumps(meta))
                    pipe.zadd(self.scheduled_jobs_key, {job.id: following.next_at.timestamp()})
                pipe.execute()
            except WatchError:
                return

    def _report_foreign(self, job_id: str) -> None:
        if job_id not in self._foreign:
            self._foreign.add(job_id)
            log.warning("scheduler %s: job %s in rq-scheduler's set is not an rqledger trigger: left alone",
                        self.name, job_id)

    # --- the lock -----------------------------------------------------------------------------

    def acquire_lock(self):
        self._lock_acquired = self._lock.acquire()
        return self._lock_acquired

    def remove_lock(self):
        self._lock.release()
        self._lock_acquired = False

    # --- the loop -----------------------------------------------------------------------------

    def _install_signal_handlers(self):
        def stop(signum, frame):
            log.info("scheduler %s: shutting down after the current pass", self.name)
            self._stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

    def stop(self) -> None:
        """Asks the loop to end after the current pass (also what SIGTERM does)."""
        self._stopping = True

    def run(self, burst: bool = False, between_passes: Callable[[], None] | None = None,
            install_signal_handlers: bool = True):
        """Runs a pass every `interval` seconds until stopped (or once, with `burst`).

        While Redis is unreachable (not up yet, restarting) each pass is skipped with a warning,
        and the loop carries on once it answers again.
        """
        if install_signal_handlers:
            self._install_signal_handlers()
        born = False
        unreachable = False
        try:
            while not self._stopping:
                started = time.monotonic()
                try:
                    if not born:
                        self.register_birth()
                        born = True
                    self._pass()
                    if unreachable:
                        log.info("scheduler %s: Redis answers again", self.name)
                    unreachable = False
                except (RedisError, OSError) as exc:
                    if not unreachable:
                        log.warning("scheduler %s: Redis is unreachable, passes skipped until it answers: %s",
                                    self.name, exc)
                    unreachable = True
                if burst:
                    break
                if between_passes is not None:
                    between_passes()
                self._sleep(self._interval - (time.monotonic() - started))
        finally:
            try:
                self.remove_lock()
                if born:
                    self.register_death()
            except (RedisError, OSError) as exc:
                log.warning("scheduler %s: could not register its death: %s", self.name, exc)

    def _pass(self) -> None:
        self.heartbeat()
        if not self.acquire_lock():
            log.debug("scheduler %s: another scheduler holds the lock, pass skipped", self.name)
            return
        try:
            self.enqueue_jobs()
            self.heartbeat()
        finally:
            self.remove_lock()

    def enqueue_jobs(self):
        # rq-scheduler returns a spent generator; a list keeps the pass countable
        jobs = list(self.get_jobs_to_queue())
        for job in jobs:
            try:
                self.enqueue_job(job)
            except Exception:  # one broken trigger must not stop the others from firing
                log.exception("scheduler %s: could not fire %s", self.name, job.id)
        return jobs

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + max(0.0, seconds)
        while not self._stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

