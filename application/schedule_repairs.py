"""The schedules' maintenance steps (the tasks' own is rqledger.application.reconcile): rules over ports.

Words used for the scheduler's maintenance round, so a reader knows which step is which:
- **repair triggers** (`RepairTriggers`): the scheduler's triggers are made to agree with the ledger's
  schedules. The ledger is the truth: a live schedule (running or failed, not used up) whose trigger was lost
  gets it back, continuing from its next run time and run count; a trigger of a dead, used-up or deleted
  schedule, or a second trigger of one, is removed; a trigger whose timing is not the schedule's is rewritten.
- **end stuck runs** (`EndStuckRuns`): a run the ledger shows running although its job is over (failed,
  stopped, finished without recording) or its worker is gone is ended, once, with the reason.
- **reconcile tasks** (rqledger.application.reconcile.Reconcile): the tasks' rows and their RQ jobs converge.
- **evaluate alerts**, **deliver alerts** (rqledger.application.alerts).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from rqledger.application.ports import Clock, RunJobs, ScheduleQuery, TriggerStore, UnitOfWork
from rqledger.application.runs import ScheduledRuns
from rqledger.domain.errors import DomainError
from rqledger.domain.schedule import RunStatus, ScheduledTask, ScheduledTaskInstance, ScheduleStatus

log = logging.getLogger("rqledger.schedules")

_LIVE = frozenset({ScheduleStatus.RUNNING, ScheduleStatus.FAILED})


@dataclass
class TriggerRepairs:
    restored: list[int] = field(default_factory=list)  # schedule ids whose trigger was (re)written
    removed: list[str] = field(default_factory=list)  # trigger ids removed

    def __bool__(self) -> bool:
        return bool(self.restored or self.removed)


@dataclass
class RepairTriggers:
    uow: UnitOfWork
    triggers: TriggerStore
    batch: int = 500

    def __call__(self) -> TriggerRepairs:
        report = TriggerRepairs()
        live = {p.id: p for p in self._live_schedules() if not p.exhausted}
        present: set[int] = set()
        for stored in self.triggers.triggers():
            trigger = stored.trigger
            if trigger is None:
                continue  # another application's job in the scheduler's storage
            schedule = live.get(trigger.schedule_id)
            if schedule is None or stored.job_id != self.triggers.trigger_id(schedule.id):
                self.triggers.remove(stored.job_id)
                report.removed.append(stored.job_id)
            elif trigger.timing != schedule.timing or trigger.catch_up is not schedule.catch_up:
                log.warning("trigger of schedule %s had another timing or catch-up policy than the ledger: "
                            "rewritten", schedule.id)
            else:
                present.add(schedule.id)
        for schedule_id, schedule in live.items():
            if schedule_id in present:
                continue
            if self.triggers.restore(schedule) is not None:
                report.restored.append(schedule_id)
                self._remember_trigger(schedule)
        if report:
            log.info("repaired triggers: restored %s, removed %s", report.restored, report.removed)
        return report

    def _live_schedules(self) -> list[ScheduledTask]:
        schedules, cursor = [], None
        with self.uow:
            while True:
                page = self.uow.schedules.list(ScheduleQuery(statuses=_LIVE, limit=self.batch, before_id=cursor))
                schedules += page.items
                cursor = page.next_cursor
                if cursor is None:
                    return schedules

    def _remember_trigger(self, schedule: ScheduledTask) -> None:
        job_id = self.triggers.trigger_id(schedule.id)
        if schedule.job_id == job_id:
            return
        with self.uow:
            try:
                current = self.uow.schedules.get(schedule.id)
                current.job_id = job_id
                self.uow.schedules.save(current)
                self.uow.commit()
            except DomainError:
                pass  # changed or deleted meanwhile; the next round looks again


@dataclass
class EndStuckRuns:
    uow: UnitOfWork
    runs: ScheduledRuns
    jobs: RunJobs
    clock: Clock
    grace: float = 5.0  # seconds a run may be running before it is looked at (writes in flight)
    recent: int = 20  # runs looked at per schedule, newest first
    batch: int = 500

    def __call__(self) -> list[int]:
        """Fails the stuck runs; their ids."""
        cutoff = self.clock.now() - timedelta(seconds=self.grace)
        running = [run for run in self._recent_runs() if run.status is RunStatus.RUNNING and run.started_at <= cutoff]
        if not running:
            return []
        ended = []
        live = self.jobs.live_workers()
        for run in running:
            reason = self._reason(run, live)
            if reason and self.runs.fail(run.id, f"the scheduler's maintenance ended the run: {reason}"):
                log.warning("run %s of schedule %s ended: %s", run.id, run.schedule_id, reason.splitlines()[0])
                ended.append(run.id)
        return ended

    def _reason(self, run: ScheduledTaskInstance, live_workers: set[str] | None) -> str | None:
        reason = self.jobs.why_over(run)
        if reason is not None:
            return reason
        if run.worker and live_workers is not None and run.worker not in live_workers:
            return f"its worker {run.worker} is gone (no heartbeat)"
        return None

    def _recent_runs(self) -> list[ScheduledTaskInstance]:
        runs, cursor = [], None
        with self.uow:
            while True:
                page = self.uow.schedules.list(ScheduleQuery(limit=self.batch, before_id=cursor))
                for schedule in page.items:
                    runs += self.uow.schedules.list_runs(schedule.id, limit=self.recent).items
                cursor = page.next_cursor
                if cursor is None:
                    return runs
