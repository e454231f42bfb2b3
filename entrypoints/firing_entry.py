"""The RQ job entry of a schedule's firing: the only function the scheduler ever asks a worker to call.

`rqledger scheduler` enqueues one job per firing, `run_schedule(schedule_id, name,
scheduled_at)` with the nominal firing time as ISO-8601. The run is recorded
once per (schedule, scheduled time) by the database; a duplicate delivery or a
firing of a canceled schedule is skipped (the RQ job finishes). A firing of a
schedule the ledger does not have (a forged job, or one deleted while its
firing waited) runs nothing and fails in RQ, like our other refused jobs. The
task's own failure is recorded on the run (and the parent), never raised into
RQ: the RQ job finishes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from rq import get_current_job

from rqledger.domain.errors import ScheduleNotFound
from rqledger.entrypoints import runtime

RUN_FUNCTION = f"{__name__}.run_schedule"

log = logging.getLogger(__name__)


class ScheduleMissing(Exception):
    """A firing names a schedule that is not in the ledger (deleted, or never existed): nothing was run."""

    def __init__(self, schedule_id):
        super().__init__(f"refused, nothing was run: schedule {schedule_id} does not exist "
                         f"(deleted, or never existed)")


def run_schedule(schedule_id: int, name: str, scheduled_at: str) -> dict:
    """Runs one firing of schedule `schedule_id` (task `name`, for the record) due at `scheduled_at`."""
    due = datetime.fromisoformat(scheduled_at)
    if due.tzinfo is None:
        due = due.replace(tzinfo=timezone.utc)
    job = get_current_job()
    worker = job.worker_name if job is not None else None
    catching_up = bool(job is not None and job.meta.get("catch_up"))  # fired late by a catch-up
    try:
        run = runtime.current().run_schedule()(int(schedule_id), due, worker, catching_up=catching_up)
    except ScheduleNotFound:
        # a forged job and the late firing of a deleted schedule look alike (no row either way): both
        # end failed in RQ, so that a job naming a schedule that never existed is not taken for done
        log.warning("schedule %s (%s) does not exist: firing %s refused, nothing run", schedule_id, name,
                    scheduled_at)
        raise ScheduleMissing(schedule_id) from None
    if run is None:
        return {"skipped": "already recorded (run, or missed), or the schedule is canceled"}
    return {"run_id": run.id, "status": run.status.value}
