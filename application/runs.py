"""The worker-side steps of a schedule's run: record it (once per firing), run it, end it, update the parent."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime

from rqledger.application.catch_up import CatchUpPlan, late_note
from rqledger.application.events import run_event
from rqledger.application.execution import describe_exception, ensure_json
from rqledger.application.ports import Clock, CronCalendar, EventPublisher, UnitOfWork
from rqledger.application.progress import reporting_to
from rqledger.application.registry import TaskRegistry
from rqledger.application.schedules import firing_after
from rqledger.domain.errors import ConcurrentUpdate, DomainError, DuplicateRun
from rqledger.domain.schedule import RunStatus, ScheduledTaskInstance, ScheduleStatus


@dataclass
class ScheduledRuns:
    uow: UnitOfWork
    clock: Clock
    calendar: CronCalendar
    events: EventPublisher

    def start(self, schedule_id: int, scheduled_at: datetime, worker: str | None = None,
              catching_up: bool = False) -> ScheduledTaskInstance | None:
        """Records the run (running). None when the firing is already recorded (ran, or recorded missed) or
        the parent is dead. `catching_up`: fired late by a catch-up; its log says how late."""
        return _retrying(lambda: self._start(schedule_id, scheduled_at, worker, catching_up))

    def _start(self, schedule_id: int, scheduled_at: datetime, worker: str | None,
               catching_up: bool) -> ScheduledTaskInstance | None:
        now = self.clock.now()
        with self.uow:
            schedule = self.uow.schedules.get(schedule_id)
            if schedule.status is ScheduleStatus.DEATH:
                return None
            run = schedule.start_run(scheduled_at, now)
            run.worker = worker
            if catching_up:
                run.log = late_note(scheduled_at, now)
            # the firing the trigger moved on to after this one (the same catch-up rules); a run that starts
            # after a later firing's run (two workers) never moves it back
            _move_next_run(schedule, firing_after(schedule.timing, scheduled_at, schedule.runs_started,
                                                  self.calendar, max(now, scheduled_at)))
            try:
                self.uow.schedules.add_run(run)
            except DuplicateRun:
                return None  # another process recorded this firing first (or it was recorded missed): skip it
            self.uow.schedules.save(schedule)
            self.uow.commit()
        self.events.publish(run_event(run, schedule))
        return run

    def record_missed(self, schedule_id: int, plan: CatchUpPlan) -> list[ScheduledTaskInstance]:
        """Records the plan's missed firings as `missed` runs (those not recorded yet: the unique (schedule,
        scheduled time) lets one of a real run and a missed row in), counts the older ones in the parent's log,
        and moves its next run on. The runs recorded; none when the parent is dead or gone."""
        return _retrying(lambda: self._record_missed(schedule_id, plan))

    def _record_missed(self, schedule_id: int, plan: CatchUpPlan) -> list[ScheduledTaskInstance]:
        now = self.clock.now()
        recorded = []
        with self.uow:
            schedule = self.uow.schedules.get(schedule_id)
            if schedule.status is ScheduleStatus.DEATH:
                return []
            note = _missed_note(plan)
            for slot in plan.missed:
                run = schedule.missed_run(slot, now, note)
                try:
                    self.uow.schedules.add_run(run)
                except DuplicateRun:
                    continue  # ran after all, or another scheduler recorded it first
                schedule.count_missed(run)
                recorded.append(run)
            if plan.uncounted:
                schedule.count_missed(uncounted=plan.uncounted)
                last = plan.missed[0] if plan.missed else (plan.run[0] if plan.run else plan.following)
                schedule.note(f"{now.isoformat()}: {plan.uncounted} firing(s) from {plan.first.isoformat()} "
                              f"until before {last.isoformat() if last else 'the end'} were missed and not "
                              f"recorded as runs (only the newest are, RQLEDGER_MAX_MISSED_RUNS)")
            if schedule.active:
                _move_next_run(schedule, plan.following)
            self.uow.schedules.save(schedule)
            self.uow.commit()
        self.events.publish_many([run_event(run, schedule) for run in recorded])
        return recorded

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
        self.events.publish(run_event(run, schedule))
        return run


def _move_next_run(schedule, following: datetime | None) -> None:
    """Sets the parent's next run to `following`, never back to an earlier one (None: it will not fire again)."""
    if following is None or schedule.next_run_at is None or following > schedule.next_run_at:
        schedule.next_run_at = following


def _missed_note(plan: CatchUpPlan) -> str:
    what = {"skip": "nothing was run (catch_up skip)",
            "latest": "only the newest missed firing was run, late (catch_up latest)",
            "all": "the missed firings were run late (catch_up all)"}[plan.policy.value]
    return f"missed: no scheduler fired it at its time (every scheduler was down); {what}"


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

    def __call__(self, schedule_id: int, scheduled_at: datetime, worker: str | None = None,
                 catching_up: bool = False) -> ScheduledTaskInstance | None:
        run = self.runs.start(schedule_id, scheduled_at, worker, catching_up)
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
