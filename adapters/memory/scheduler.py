"""An in-memory scheduler: one job per schedule, fired by `fire_due()` against a controllable clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from application.errors import QueueUnavailable
from application.ports import Clock, CronCalendar
from domain.schedule import ScheduledTask


@dataclass
class ScheduleJob:
    schedule_id: int
    schedule: ScheduledTask
    next_at: datetime
    fired: int = 0


class InMemoryScheduler:
    def __init__(self, clock: Clock, calendar: CronCalendar):
        self.clock = clock
        self.calendar = calendar
        self.jobs: dict[int, ScheduleJob] = {}
        self.available = True

    def schedule(self, schedule: ScheduledTask) -> str:
        if not self.available:
            raise QueueUnavailable("the in-memory scheduler is switched off")
        timing = schedule.timing
        first = (self.calendar.next_after(timing.cron, timing.timezone, self.clock.now())
                 if timing.kind == "cron" else max(timing.at, self.clock.now()))
        self.jobs[schedule.id] = ScheduleJob(schedule.id, schedule, first)
        return f"schedule-{schedule.id}"

    def cancel(self, schedule: ScheduledTask) -> None:
        self.jobs.pop(schedule.id, None)

    def fire_due(self, run: Callable[[int, datetime], object]) -> int:
        """Calls `run(schedule_id, scheduled_at)` for every firing due by now; returns how many fired."""
        fired = 0
        now = self.clock.now()
        for job in list(self.jobs.values()):
            while job.schedule_id in self.jobs and job.next_at <= now:
                scheduled_at = job.next_at
                job.fired += 1
                self._advance(job)
                run(job.schedule_id, scheduled_at)
                fired += 1
        return fired

    def _advance(self, job: ScheduleJob) -> None:
        timing = job.schedule.timing
        total = timing.total_runs
        if total is not None and job.fired >= total:
            self.jobs.pop(job.schedule_id, None)
        elif timing.kind == "cron":
            job.next_at = self.calendar.next_after(timing.cron, timing.timezone, job.next_at)
        else:
            job.next_at = timing.nth_run_at(job.fired)
