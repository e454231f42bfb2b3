"""Use cases on schedules: register (idempotent), cancel, delete, read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rqledger.application.errors import AdapterError, ScheduleNotRegistered
from rqledger.application.limits import Limits
from rqledger.application.ports import Clock, CronCalendar, Page, ScheduleQuery, Scheduler, UnitOfWork
from rqledger.application.registry import TaskRegistry
from rqledger.application.tasks import owner_text
from rqledger.domain.errors import InvalidSchedule
from rqledger.domain.schedule import CatchUp, ScheduledTask, Timing


@dataclass(frozen=True)
class ScheduleRequest:
    """What a client asks for. `owner` takes the same values as a task's (an int user id becomes its string)."""

    name: str
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    description: str | None = None
    at: datetime | None = None
    interval: int | None = None
    repeat: int | None = None
    cron: str | None = None
    owner: str | int | None = None
    catch_up: CatchUp | str | None = None  # what to do with firings missed while no scheduler ran (None: latest)
    expect_every: int | None = None  # seconds within which a run must succeed (the dead-man check; None: none)
    alert_after_failures: int | None = None  # failed runs in a row that raise schedule.failing (None: 3)
    timezone: str | None = None  # the IANA zone `cron` is read in (None: the service's); only with a cron


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


def firing_after(timing: Timing, fired_at: datetime, fired: int, calendar: CronCalendar,
                 now: datetime) -> datetime | None:
    """The firing that follows the one due at `fired_at` (the `fired`-th, counted from 1), as the scheduler's
    trigger moves on at `now`; None when that one was the last. The one rule for the trigger and the ledger's
    `next_run_at`, so that the next run shown is the one that will really fire.

    At/interval times keep to the `at + n * interval` grid (a first firing put off to "now", for an `at` in
    the past, is off it: the next is the first grid point after it). A bounded schedule (a one-off, an interval
    with a repeat count) delivers every one of its firings, late or not. An unbounded one that fell behind (the
    scheduler was down) fired once for the oldest missed time and skips to the first time after `now`, instead
    of replaying every missed firing in a burst; cron likewise.
    """
    total = timing.total_runs
    if total is not None and fired >= total:
        return None
    if timing.kind == "cron":
        return calendar.next_after(timing.cron, timing.timezone, max(fired_at, now))
    following = _first_grid_point_after(timing, fired_at)
    if total is None and following <= now:
        following = _first_grid_point_after(timing, now)
    return following


def _first_grid_point_after(timing: Timing, moment: datetime) -> datetime:
    step = timedelta(seconds=timing.interval)
    if moment < timing.at:
        return timing.at
    return timing.at + step * ((moment - timing.at) // step + 1)


MAX_EXPECT_EVERY = 366 * 24 * 3600


def _alert_settings(request: ScheduleRequest) -> tuple[int | None, int]:
    """(expect_every, alert_after_failures) checked; InvalidSchedule names the field."""
    expect_every, failures = request.expect_every, request.alert_after_failures
    if expect_every is not None and (isinstance(expect_every, bool) or not isinstance(expect_every, int)
                                     or not 1 <= expect_every <= MAX_EXPECT_EVERY):
        raise InvalidSchedule(f"'expect_every' must be whole seconds from 1 to {MAX_EXPECT_EVERY}",
                              field="expect_every")
    if failures is None:
        failures = 3
    if isinstance(failures, bool) or not isinstance(failures, int) or not 1 <= failures <= 100:
        raise InvalidSchedule("'alert_after_failures' must be a whole number from 1 to 100",
                              field="alert_after_failures")
    return expect_every, failures


@dataclass
class RegisterSchedule:
    """Get or create the parent by name + args + kwargs + owner; a known one takes the new timing and is revived.

    The owner is in the key so that two users scheduling the same call each get (and revive) their own.
    """

    uow: UnitOfWork
    scheduler: Scheduler
    registry: TaskRegistry
    calendar: CronCalendar
    clock: Clock
    timezone: str = "UTC"

    def __call__(self, request: ScheduleRequest) -> tuple[ScheduledTask, bool]:
        task_type = self.registry.get(request.name)
        task_type.check_arguments(request.args, request.kwargs)
        owner = owner_text(request.owner)
        if request.timezone is not None and request.cron is None:
            raise InvalidSchedule("'timezone' is the time zone of a cron expression: give it with 'cron' (an 'at' "
                                  "carries its own offset)", field="timezone")
        timing = Timing(at=request.at, interval=request.interval, repeat=request.repeat,
                        cron=request.cron, timezone=request.timezone or self.timezone)
        if timing.cron is not None:
            self.calendar.validate(timing.cron, timing.timezone)
        catch_up = CatchUp.parse(request.catch_up)
        expect_every, failures = _alert_settings(request)
        now = self.clock.now()
        with self.uow:
            schedule = self.uow.schedules.find(task_type.name, list(request.args), dict(request.kwargs), owner)
            created = schedule is None
            if created:
                schedule = ScheduledTask(
                    name=task_type.name, timing=timing, args=list(request.args), kwargs=dict(request.kwargs),
                    description=request.description if request.description is not None else task_type.description,
                    owner=owner, queue=task_type.queue, created_at=now, catch_up=catch_up,
                    expect_every=expect_every, alert_after_failures=failures,
                )
                schedule.next_run_at = next_run_time(schedule, self.calendar, now)
                self.uow.schedules.add(schedule)
            else:
                schedule.revive(timing, request.description, catch_up)
                schedule.expect_every, schedule.alert_after_failures = expect_every, failures
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
