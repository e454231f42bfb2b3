"""An in-memory scheduler: one job per schedule, fired by `fire_due()` against a controllable clock.

It follows the real trigger's rules (application.schedules.firing_after for the next firing, and
application.catch_up.plan_catch_up for firings it finds overdue by more than `grace` seconds), so that a
test moving the clock by an hour sees what `rqledger scheduler` does after an hour down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from rqledger.application.catch_up import DEFAULT_GRACE, DEFAULT_MAX_MISSED, CatchUpPlan, plan_catch_up
from rqledger.application.errors import QueueUnavailable
from rqledger.application.ports import Clock, CronCalendar
from rqledger.application.schedules import firing_after, next_run_time
from rqledger.domain.schedule import ScheduledTask


@dataclass
class ScheduleJob:
    schedule_id: int
    schedule: ScheduledTask
    next_at: datetime
    fired: int = 0


class InMemoryScheduler:
    def __init__(self, clock: Clock, calendar: CronCalendar, grace: float = DEFAULT_GRACE,
                 max_missed: int = DEFAULT_MAX_MISSED):
        self.clock = clock
        self.calendar = calendar
        self.grace = grace
        self.max_missed = max_missed
        self.jobs: dict[int, ScheduleJob] = {}
        self.available = True

    def schedule(self, schedule: ScheduledTask) -> str:
        if not self.available:
            raise QueueUnavailable("the in-memory scheduler is switched off")
        first = schedule.next_run_at or next_run_time(schedule, self.calendar, self.clock.now())
        if first is None:
            self.jobs.pop(schedule.id, None)
        else:
            self.jobs[schedule.id] = ScheduleJob(schedule.id, schedule, first, fired=schedule.runs_started)
        return f"schedule-{schedule.id}"

    def cancel(self, schedule: ScheduledTask) -> None:
        self.jobs.pop(schedule.id, None)

    def fire_due(self, run: Callable[..., object],
                 missed: Callable[[int, CatchUpPlan], object] | None = None) -> int:
        """Calls `run(schedule_id, scheduled_at)` for every firing due by now; returns how many fired.

        A job behind by more than `grace` is caught up by its schedule's policy instead: `missed(schedule_id,
        plan)` records the missed firings (ScheduledRuns.record_missed) and each firing the plan runs is
        `run(schedule_id, scheduled_at, catching_up=True)`.
        """
        fired = 0
        now = self.clock.now()
        for job in list(self.jobs.values()):
            while job.schedule_id in self.jobs and job.next_at <= now:
                timing = job.schedule.timing
                plan = plan_catch_up(timing, job.schedule.catch_up, job.next_at, job.fired, self.calendar, now,
                                     self.grace, self.max_missed)
                if plan is None:
                    scheduled_at = job.next_at
                    job.fired += 1
                    self._move(job, firing_after(timing, scheduled_at, job.fired, self.calendar, now))
                    run(job.schedule_id, scheduled_at)
                    fired += 1
                    continue
                job.fired += plan.consumed
                self._move(job, plan.following)
                if missed is not None:
                    missed(job.schedule_id, plan)
                for scheduled_at in plan.run:
                    run(job.schedule_id, scheduled_at, catching_up=True)
                    fired += 1
        return fired

    def _move(self, job: ScheduleJob, following: datetime | None) -> None:
        if following is None:
            self.jobs.pop(job.schedule_id, None)
        else:
            job.next_at = following
