"""The Scheduler port on rq-scheduler: one trigger job per schedule, fired by `rqledger scheduler`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from rq.job import JobStatus
from rq.serializers import JSONSerializer
from rq_scheduler import Scheduler

from rqledger.adapters.rq import queue_errors
from rqledger.adapters.scheduler.json_job import JSONJob
from rqledger.adapters.scheduler.trigger import META_KEY, Trigger, trigger_job_id
from rqledger.application.errors import QueueUnavailable
from rqledger.application.ports import Clock, CronCalendar
from rqledger.application.registry import TaskRegistry
from rqledger.domain.errors import UnknownTaskType
from rqledger.domain.schedule import ScheduledTask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredTrigger:
    """A job found in rq-scheduler's set: ours (with its trigger) or another application's (trigger None)."""

    job_id: str
    trigger: Trigger | None


class RqScheduler:
    """Creates, replaces and removes the trigger job of each schedule in rq-scheduler's storage.

    The trigger's id is `schedule-<id>`, so writing it again replaces it: registering the
    same schedule on every application start never makes a second job.
    """

    scheduled_jobs_key = Scheduler.scheduled_jobs_key

    def __init__(self, connection, calendar: CronCalendar, clock: Clock, registry: TaskRegistry,
                 run_function: str, default_timeout: int = 180):
        self.connection = connection
        self.calendar = calendar
        self.clock = clock
        self.registry = registry
        self.run_function = run_function
        self.default_timeout = default_timeout

    def schedule(self, schedule: ScheduledTask) -> str:
        """Writes the schedule's trigger from the parent's state, replacing any; returns its job id.

        (A parent that will not fire again, dead or used up, gets no job; RegisterSchedule never asks for one.)
        """
        self.restore(schedule)
        return trigger_job_id(schedule.id)

    def restore(self, schedule: ScheduledTask) -> Trigger | None:
        """Writes the trigger that continues the parent where the ledger says it stands; None (and no job)
        when the parent will not fire again."""
        trigger = Trigger.for_schedule(schedule, self.calendar, self.clock.now(), timeout=self._timeout(schedule.name))
        if trigger is None:
            self.remove(trigger_job_id(schedule.id))
            return None
        job = JSONJob.create(
            self.run_function, args=[schedule.id, schedule.name], connection=self.connection,
            id=trigger_job_id(schedule.id), timeout=trigger.timeout, status=JobStatus.SCHEDULED,
            description=f"trigger of schedule {schedule.id} ({schedule.name})",
            meta={META_KEY: trigger.to_meta()},
        )
        job.origin = trigger.queue
        with queue_errors(f"store the trigger of schedule {schedule.id}"):
            with self.connection.pipeline() as pipe:  # MULTI: the hash and its score change together
                pipe.delete(job.key)  # no field of a previous trigger may linger
                job.save(pipeline=pipe)
                pipe.zadd(self.scheduled_jobs_key, {job.id: trigger.next_at.timestamp()})
                pipe.execute()
        return trigger

    def cancel(self, schedule: ScheduledTask) -> None:
        """Removes the schedule's trigger. A Redis outage is only logged: the ledger already says the
        parent is dead (or gone), so a late firing is skipped and the scheduler's reconciler removes it."""
        ids = {trigger_job_id(schedule.id)}
        if schedule.job_id:
            ids.add(schedule.job_id)
        for job_id in ids:
            try:
                self.remove(job_id)
            except QueueUnavailable as exc:
                log.warning("could not remove trigger %s of schedule %s: %s", job_id, schedule.id, exc)

    def trigger_id(self, schedule_id: int) -> str:
        return trigger_job_id(schedule_id)

    def remove(self, job_id: str) -> None:
        with queue_errors(f"remove the scheduler job {job_id}"):
            with self.connection.pipeline() as pipe:
                pipe.zrem(self.scheduled_jobs_key, job_id)
                pipe.delete(JSONJob.key_for(job_id))
                pipe.execute()

    def next_run_at(self, schedule: ScheduledTask, after: datetime) -> datetime | None:
        """The first firing strictly after `after`, from the timing alone (None for a spent one-off)."""
        timing = schedule.timing
        if timing.kind == "cron":
            return self.calendar.next_after(timing.cron, timing.timezone, after)
        if timing.kind == "once":
            return timing.at if timing.at > after else None
        n = 0 if after < timing.at else int((after - timing.at).total_seconds() // timing.interval) + 1
        if timing.repeat is not None and n >= timing.repeat:
            return None
        return timing.nth_run_at(n)

    def triggers(self) -> list[StoredTrigger]:
        """Every job in rq-scheduler's set, with its due time order kept."""
        with queue_errors("list the scheduler jobs"):
            job_ids = [m.decode() for m in self.connection.zrange(self.scheduled_jobs_key, 0, -1)]
            with self.connection.pipeline(transaction=False) as pipe:
                for job_id in job_ids:
                    pipe.hget(JSONJob.key_for(job_id), "meta")
                metas = pipe.execute()
        return [StoredTrigger(job_id, _trigger(raw)) for job_id, raw in zip(job_ids, metas)]

    def _timeout(self, name: str) -> int:
        try:
            return self.registry.get(name).timeout or self.default_timeout
        except UnknownTaskType:
            return self.default_timeout


def _trigger(raw: bytes | None) -> Trigger | None:
    if not raw:
        return None
    try:
        data = JSONSerializer.loads(raw).get(META_KEY)
        return Trigger.from_meta(data) if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # pickled or foreign meta: not one of ours
