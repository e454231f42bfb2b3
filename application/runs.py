"""The worker-side steps of a schedule's run: record it (once per firing), run it, end it, update the parent."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime

from application.events import run_event
from application.execution import describe_exception, ensure_json
from application.ports import Clock, CronCalendar, EventPublisher, UnitOfWork
from application.progress import reporting_to
from application.registry import TaskRegistry
from application.schedules import next_run_time
from domain.errors import ConcurrentUpdate, DomainError, DuplicateRun
from domain.schedule import RunStatus, ScheduledTaskInstance, ScheduleStatus


@dataclass
class ScheduledRuns:
    uow: UnitOfWork
    clock: Clock
    calendar: CronCalendar
    events: EventPublisher

    def start(self, schedule_id: int, scheduled_at: datetime, worker: str | None = None) -> ScheduledTaskInstance | None:
        """Records the run (running). None when the firing is already recorded or the parent is dead."""
        return _retrying(lambda: self._start(schedule_id, scheduled_at, worker))

    def _start(self, schedule_id: int, scheduled_at: datetime, worker: str | None) -> ScheduledTaskInstance | None:
        now = self.clock.now()
        with self.uow:
            schedule = self.uow.schedules.get(schedule_id)
            if schedule.status is ScheduleStatus.DEATH:
                return None
            run = schedule.start_run(scheduled_at, now)
            run.worker = worker
            schedule.next_run_at = next_run_time(schedule, self.calendar, max(now, scheduled_at))
            try:
                self.uow.schedules.add_run(run)
            except DuplicateRun:
                return None  # another process recorded this firing first: skip it
            self.uow.schedules.save(schedule)
            self.uow.commit()
        self.events.publish(run_event(run))
        return run

    def finish(self, run_id: int, result) -> ScheduledTaskInstance | None:
        try:
            ensure_json(result)
        except (TypeError, ValueError) as exc:
            return self.fail(run_id, f"the result cannot be stored as JSON: {exc}")
        return self._end(run_id, lambda run, now: run.finish(result, now))

    def fail(self, run_id: int, error: str) -> ScheduledTaskInstance | None:
        return self._end(run_id, lambda run, now: run.fail(error, now))

    def record_progress(self, run_id: int, percent: int) -> None:
        with self.uow:
            run = self.uow.schedules.get_run(run_id)
            if run.status is RunStatus.RUNNING:
                run.set_progress(percent)
                self.uow.schedules.save_run(run)
                self.uow.commit()

    def _end(self, run_id: int, apply) -> ScheduledTaskInstance | None:
        return _retrying(lambda: self._end_once(run_id, apply))

    def _end_once(self, run_id: int, apply) -> ScheduledTaskInstance | None:
        now = self.clock.now()
        with self.uow:
            run = self.uow.schedules.get_run(run_id)
            if run.status is not RunStatus.RUNNING:
                return None  # ended already (a duplicate delivery)
            apply(run, now)
            self.uow.schedules.save_run(run)
            schedule = self.uow.schedules.get(run.schedule_id)
            schedule.run_ended(run)
            self.uow.schedules.save(schedule)
            self.uow.commit()
        self.events.publish(run_event(run))
        return run


def _retrying(step, attempts: int = 10):
    """Runs a transaction again when another run of the same schedule updated the parent first.

    The pause between tries grows and is jittered, so workers that collided once do not collide again.
    """
    for attempt in range(attempts):
        try:
            return step()
        except ConcurrentUpdate:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 6)))


@dataclass
class RunSchedule:
    """One firing delivered to a worker: record the run, call the registered function, end the run."""

    runs: ScheduledRuns
    registry: TaskRegistry
    clock: Clock
    progress_interval: float = 2.0

    def __call__(self, schedule_id: int, scheduled_at: datetime, worker: str | None = None) -> ScheduledTaskInstance | None:
        run = self.runs.start(schedule_id, scheduled_at, worker)
        if run is None:
            return None
        try:
            with self.runs.uow:
                schedule = self.runs.uow.schedules.get(schedule_id)
            task_type = self.registry.get(schedule.name)
        except DomainError as exc:
            return self.runs.fail(run.id, str(exc))
        sink = _RunProgress(self.runs, self.clock, run.id, self.progress_interval)
        try:
            with reporting_to(sink):
                result = task_type.func(*schedule.args, **schedule.kwargs)
        except Exception as exc:
            return self.runs.fail(run.id, describe_exception(exc))
        return self.runs.finish(run.id, result)


@dataclass
class _RunProgress:
    runs: ScheduledRuns
    clock: Clock
    run_id: int
    interval: float
    _last: float | None = None

    def report(self, percent: int) -> None:
        now = self.clock.now().timestamp()
        if self._last is None or now - self._last >= self.interval or percent >= 100:
            self.runs.record_progress(self.run_id, percent)
            self._last = now
