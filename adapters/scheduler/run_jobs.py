"""The RunJobs port on RQ: the state of a schedule run's firing job, and the live workers (for EndStuckRuns)."""

from __future__ import annotations

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from rqledger.adapters.rq import queue_errors
from rqledger.adapters.rq.liveness import live_worker_names
from rqledger.adapters.scheduler.trigger import run_job_id
from rqledger.domain.schedule import ScheduledTaskInstance

_ENDED_BADLY = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


class RqRunJobs:
    def __init__(self, connection, worker_ttl: float = 30.0):
        self.connection = connection
        self.worker_ttl = worker_ttl  # seconds after its last heartbeat at which a worker counts as gone

    def why_over(self, run: ScheduledTaskInstance) -> str | None:
        with queue_errors(f"inspect the job of run {run.id}"):
            try:
                job = Job.fetch(run_job_id(run.schedule_id, run.scheduled_at), connection=self.connection,
                                serializer=JSONSerializer)
            except NoSuchJobError:
                return None
            status = job.get_status(refresh=False)
            if status in _ENDED_BADLY:
                result = job.latest_result()
                detail = (result.exc_string or "").strip() if result is not None else ""
                return f"its job {status.value} in the queue" + (f":\n{detail}" if detail else "")
            if status == JobStatus.FINISHED:
                return "its job finished without recording the run's outcome"
            return None

    def live_workers(self) -> set[str] | None:
        with queue_errors("list the live workers"):
            return live_worker_names(self.connection, self.worker_ttl)
