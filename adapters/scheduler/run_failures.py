"""The ledger's side of a schedule's firing whose job failed outside its own code (work-horse killed, stop).

A firing's job (rqledger.entrypoints.firing_entry.run_schedule) records its run's end
itself, except when its work-horse is killed (SIGKILL, out of memory) or
stopped: RQ then reports the failure to the worker's handle_job_failure in the
parent worker. This failure handler (LedgerWorker's `failure_handlers`) ends
the run there and then, instead of leaving it to the scheduler's StuckRuns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from rqledger.application.ports import UnitOfWork
from rqledger.application.runs import ScheduledRuns
from rqledger.domain.errors import ScheduleNotFound
from rqledger.domain.schedule import RunStatus

log = logging.getLogger("rqledger.worker")


def firing_of(job) -> tuple[int, datetime] | None:
    """(schedule id, scheduled time) of a firing's job, or None for any other job."""
    if not job.id.startswith("schedule-"):
        return None
    try:
        schedule_id, _name, scheduled_at = job.args
        due = datetime.fromisoformat(scheduled_at)
    except (TypeError, ValueError):
        return None
    return int(schedule_id), due if due.tzinfo else due.replace(tzinfo=timezone.utc)


@dataclass
class RunFailures:
    uow: UnitOfWork
    runs: ScheduledRuns
    recent: int = 20  # runs looked at, newest first: the killed one is among the latest

    def job_failed(self, job, error: str, stopped: bool, worker_name: str | None) -> None:
        """Fails the running run of this firing (if it was recorded at all) with the reason."""
        firing = firing_of(job)
        if firing is None:
            return
        schedule_id, due = firing
        try:
            with self.uow:
                recent = self.uow.schedules.list_runs(schedule_id, limit=self.recent).items
        except ScheduleNotFound:
            return
        for run in recent:
            if run.status is RunStatus.RUNNING and run.scheduled_at.timestamp() == due.timestamp():
                reason = "stopped by a stop-job command" if stopped else error
                if self.runs.fail(run.id, reason):
                    log.info("run %s of schedule %s failed: %s", run.id, schedule_id, reason.splitlines()[0])
                return
