"""Converges rq-scheduler's triggers with the ledger's parents: one trigger per live parent, none for the rest.

Run by `rqledger scheduler` when it starts and then every minute or so. The ledger
is the truth: a live parent (running or failed, not used up) whose trigger Redis
lost gets it back, continuing from the parent's next run time and run count;
a trigger of a dead, used-up or deleted parent, or a second trigger of one
parent, is removed; a trigger whose timing is not the parent's (a registration
whose trigger write failed) is rewritten.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from adapters.scheduler.rq_scheduler import RqScheduler
from adapters.scheduler.trigger import trigger_job_id
from application.ports import ScheduleQuery, UnitOfWork
from domain.errors import DomainError
from domain.schedule import ScheduledTask, ScheduleStatus

log = logging.getLogger(__name__)

_LIVE = frozenset({ScheduleStatus.RUNNING, ScheduleStatus.FAILED})


@dataclass
class ScheduleReconcileReport:
    restored: list[int] = field(default_factory=list)  # schedule ids whose trigger was (re)written
    removed: list[str] = field(default_factory=list)  # trigger job ids removed

    def __bool__(self) -> bool:
        return bool(self.restored or self.removed)


@dataclass
class ScheduleReconciler:
    uow: UnitOfWork
    scheduler: RqScheduler
    batch: int = 500

    def __call__(self) -> ScheduleReconcileReport:
        report = ScheduleReconcileReport()
        live = {p.id: p for p in self._live_parents() if not p.exhausted}
        present: set[int] = set()
        for stored in self.scheduler.triggers():
            trigger = stored.trigger
            if trigger is None:
                continue  # another application's rq-scheduler job
            parent = live.get(trigger.schedule_id)
            if parent is None or stored.job_id != trigger_job_id(parent.id):
                self.scheduler.remove(stored.job_id)
                report.removed.append(stored.job_id)
            elif trigger.timing != parent.timing:
                log.warning("trigger of schedule %s had another timing than the ledger: rewritten", parent.id)
            else:
                present.add(parent.id)
        for schedule_id, parent in live.items():
            if schedule_id in present:
                continue
            if self.scheduler.restore(parent) is not None:
                report.restored.append(schedule_id)
                self._remember_job(parent)
        if report:
            log.info("reconciled schedules: restored %s, removed %s", report.restored, report.removed)
        return report

    def _live_parents(self) -> list[ScheduledTask]:
        parents, cursor = [], None
        with self.uow:
            while True:
                page = self.uow.schedules.list(ScheduleQuery(statuses=_LIVE, limit=self.batch, before_id=cursor))
                parents += page.items
                cursor = page.next_cursor
                if cursor is None:
                    return parents

    def _remember_job(self, parent: ScheduledTask) -> None:
        job_id = trigger_job_id(parent.id)
        if parent.job_id == job_id:
            return
        with self.uow:
            try:
                current = self.uow.schedules.get(parent.id)
                current.job_id = job_id
                self.uow.schedules.save(current)
                self.uow.commit()
            except DomainError:
                pass  # changed or deleted meanwhile; the next pass looks again
