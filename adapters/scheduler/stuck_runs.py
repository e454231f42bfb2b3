"""Ends runs that the ledger still shows running although their job is over or their worker is gone.

A run's job records its own end, except when it cannot: its work-horse was
killed (SIGKILL, out of memory), its worker died, or the job failed outside the
task function. RQ reports those to the worker, whose failure hook knows only
tasks, so the run would stay `running` for ever. The scheduler process runs this
repair with its reconciliation: each run is ended once, with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from adapters.rq import queue_errors
from adapters.rq.liveness import live_worker_names
from adapters.scheduler.trigger import run_job_id
from application.ports import Clock, ScheduleQuery, UnitOfWork
from application.runs import ScheduledRuns
from domain.schedule import RunStatus, ScheduledTaskInstance

log = logging.getLogger(__name__)

_ENDED_BADLY = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


@dataclass
class StuckRuns:
    uow: UnitOfWork
    runs: ScheduledRuns
    connection: object  # redis.Redis
    clock: Clock
    grace: float = 5.0  # seconds a run may be running before it is looked at (writes in flight)
    recent: int = 20  # runs looked at per schedule, newest first
    batch: int = 500
    worker_ttl: float = 30.0  # seconds after its last heartbeat at which a worker counts as gone

    def __call__(self) -> list[int]:
        """Fails the stuck runs; their ids."""
        cutoff = self.clock.now() - timedelta(seconds=self.grace)
        running = [run for run in self._recent_runs() if run.status is RunStatus.RUNNING and run.started_at <= cutoff]
        if not running:
            return []
        ended = []
        with queue_errors("inspect the jobs of running runs"):
            live = live_worker_names(self.connection, self.worker_ttl)
            for run in running:
                reason = self._reason(run, live)
                if reason and self.runs.fail(run.id, f"the scheduler's reconciler ended the run: {reason}"):
                    log.warning("run %s of schedule %s ended: %s", run.id, run.schedule_id, reason.splitlines()[0])
                    ended.append(run.id)
        return ended

    def _reason(self, run: ScheduledTaskInstance, live_workers: set[str] | None) -> str | None:
        try:
            job = Job.fetch(run_job_id(run.schedule_id, run.scheduled_at), connection=self.connection,
                            serializer=JSONSerializer)
        except NoSuchJobError:
            job = None
        if job is not None:
            status = job.get_status(refresh=False)
            if status in _ENDED_BADLY:
                result = job.latest_result()
                detail = (result.exc_string or "").strip() if result is not None else ""
                return f"its job {status.value} in the queue" + (f":\n{detail}" if detail else "")
            if status == JobStatus.FINISHED:
                return "its job finished without recording the run's outcome"
        if run.worker and live_workers is not None and run.worker not in live_workers:
            return f"its worker {run.worker} is gone (no heartbeat)"
        return None

    def _recent_runs(self) -> list[ScheduledTaskInstance]:
        runs, cursor = [], None
        with self.uow:
            while True:
                page = self.uow.schedules.list(ScheduleQuery(limit=self.batch, before_id=cursor))
                for parent in page.items:
                    runs += self.uow.schedules.list_runs(parent.id, limit=self.recent).items
                cursor = page.next_cursor
                if cursor is None:
                    return runs
