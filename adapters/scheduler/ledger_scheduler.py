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
from typing import Callable

from redis import WatchError
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.queue import Queue
from rq.serializers import JSONSerializer
from rq_scheduler import Scheduler

from adapters.scheduler.json_job import JSONJob
from adapters.scheduler.lock import RedisLock
from adapters.scheduler.trigger import META_KEY, Trigger, run_job_id
from application.ports import Clock, CronCalendar

log = logging.getLogger(__name__)


class LedgerScheduler(Scheduler):
    """Fires our triggers. Any other job in rq-scheduler's set is left alone: it may be pickled, and
    nothing here ever unpickles."""

    job_class = JSONJob

    def __init__(self, connection, calendar: CronCalendar, clock: Clock, run_function: str,
                 interval: float = 1.0, name: str | None = None):
        super().__init__(connection=connection, interval=interval, job_class=JSONJob, name=name)
        self.calendar = calendar
        self.clock = clock
        self.run_function = run_function
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
        self._enqueue_run(trigger)
        self._advance(job, data, trigger)

    def _enqueue_run(self, trigger: Trigger) -> None:
        scheduled_at = trigger.next_at.isoformat()
        job_id = run_job_id(trigger.schedule_id, trigger.next_at)
        queue = Queue(trigger.queue, connection=self.connection, serializer=JSONSerializer)
        try:
            queue.enqueue_call(
                self.run_function, args=[trigger.schedule_id, trigger.name, scheduled_at],
                timeout=trigger.timeout, job_id=job_id, unique=True,
                description=f"run of schedule {trigger.schedule_id} ({trigger.name}) due {scheduled_at}",
                meta={META_KEY: trigger.schedule_id, "scheduled_at": scheduled_at},
            )
        except DuplicateJobError:
            log.info("firing %s was already enqueued (by another scheduler process): skipped", job_id)
            return
        self.fired.append(job_id)
        log.info("fired %s", job_id)

    def _advance(self, job, data: dict, fired: Trigger) -> None:
        """Moves the trigger to its next firing, or removes it when used up, unless it changed meanwhile."""
        following = fired.after_firing(self.calendar, self.clock.now())
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

