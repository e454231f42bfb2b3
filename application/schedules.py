"""Use cases on schedules: register (idempotent), cancel, delete, read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from application.errors import AdapterError, ScheduleNotRegistered
from application.limits import Limits
from application.ports import Clock, CronCalendar, Page, ScheduleQuery, Scheduler, UnitOfWork
from application.registry import TaskRegistry
from domain.schedule import ScheduledTask, Timing


@dataclass(frozen=True)
class ScheduleRequest:
    name: str
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    description: str | None = None
    at: datetime | None = None
    interval: int | None = None
    repeat: int | None = None
    cron: str | None = None


def next_run_time(schedule: ScheduledTask, calendar: CronCalendar, now: datetime) -> datetime | None:
    """When the schedule fires next (an `at` in the past fires at once), or None when it will not."""
    if not schedule.active or schedule.exhausted:
        return None
    timing = schedule.timing
    if timing.kind == "cron":
        return calendar.next_after(timing.cron, timing.timezone, now)
    if schedule.runs_started == 0:
        return max(timing.at, now)
    return timing.nth_run_at(schedule.runs_started)


@dataclass
class RegisterSchedule:
    """Get or create the parent by name + args + kwargs; a known one takes the new timing and is revived."""

    uow: UnitOfWork
    scheduler: Scheduler
    registry: TaskRegistry
    calendar: CronCalendar
    clock: Clock
    timezone: str = "UTC"

    def __call__(self, request: ScheduleRequest) -> tuple[ScheduledTask, bool]:
        task_type = self.registry.get(request.name)
        task_type.check_arguments(request.args, request.kwargs)
        timing = Timing(at=request.at, interval=request.interval, repeat=request.repeat,
                        cron=request.cron, timezone=self.timezone)
        if timing.cron is not None:
            self.calendar.validate(timing.cron, timing.timezone)
        now = self.clock.now()
        with self.uow:
            schedule = self.uow.schedules.find(task_type.name, list(request.args), dict(request.kwargs))
            created = schedule is None
            if created:
                schedule = ScheduledTask(
                    name=task_type.name, timing=timing, args=list(request.args), kwargs=dict(request.kwargs),
                    description=request.description if request.description is not None else task_type.description,
                    queue=task_type.queue, created_at=now,
                )
                schedule.next_run_at = next_run_time(schedule, self.calendar, now)
                self.uow.schedules.add(schedule)
            else:
                schedule.revive(timing, request.description)
                schedule.next_run_at = next_run_time(schedule, self.calendar, now)
                self.uow.schedules.save(schedule)
            self.uow.commit()
        try:
            job_id = self.scheduler.schedule(schedule)
        except AdapterError as exc:
            # The parent stays running; the scheduler process re-creates missing jobs when it starts.
            raise ScheduleNotRegistered(schedule, str(exc)) from exc
        if job_id != schedule.job_id:
            with self.uow:
                current = self.uow.schedules.get(schedule.id)
                current.job_id = job_id
                self.uow.schedules.save(current)
                self.uow.commit()
            schedule = current
        return schedule, created


@dataclass
class CancelSchedule:
    """Stops a schedule for good: no further runs, status death."""

    uow: UnitOfWork
    scheduler: Scheduler

    def __call__(self, schedule_id: int) -> ScheduledTask:
        with self.uow:
            schedule = self.uow.schedules.get(schedule_id)
            schedule.cancel()
            self.uow.schedules.save(schedule)
            self.uow.commit()
        self.scheduler.cancel(schedule)
        return schedule


@dataclass
class DeleteSchedule:
    """Deletes the parent and all its runs, and its scheduler job."""

    uow: UnitOfWork
    scheduler: Scheduler

    def __call__(self, schedule_id: int) -> None:
        with self.uow:
            schedule = self.uow.schedules.get(schedule_id)
            self.uow.schedules.delete(schedule_id)
            self.uow.commit()
        self.scheduler.cancel(schedule)


@dataclass
class GetSchedule:
    uow: UnitOfWork

    def __call__(self, schedule_id: int, recent_runs: int = 10) -> tuple[ScheduledTask, list]:
        with self.uow:
            schedule = self.uow.schedules.get(schedule_id)
            runs = self.uow.schedules.list_runs(schedule_id, limit=recent_runs).items
        return schedule, runs


@dataclass
class ListSchedules:
    uow: UnitOfWork
    limits: Limits = field(default_factory=Limits)

    def __call__(self, query: ScheduleQuery) -> Page:
        self.limits.check_page(query.limit)
        with self.uow:
            return self.uow.schedules.list(query)


@dataclass
class ListRuns:
    uow: UnitOfWork
    limits: Limits = field(default_factory=Limits)

    def __call__(self, schedule_id: int, limit: int = 50, before_id: int | None = None) -> Page:
        self.limits.check_page(limit)
        with self.uow:
            self.uow.schedules.get(schedule_id)
            return self.uow.schedules.list_runs(schedule_id, limit=limit, before_id=before_id)
