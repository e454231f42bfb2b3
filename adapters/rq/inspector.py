"""The queue's view of our jobs on RQ, for the reconciler (application.reconcile.JobInspector)."""

from __future__ import annotations

from typing import Iterable

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from adapters.rq.connection import queue_errors
from adapters.rq.job import NOT_STARTED, SUPERSEDED, UNRECORDED
from adapters.rq.liveness import live_worker_names
from application.reconcile import JobReport, JobState

_STATES = {
    JobStatus.QUEUED: JobState.WAITING,
    JobStatus.SCHEDULED: JobState.WAITING,
    JobStatus.DEFERRED: JobState.WAITING,
    JobStatus.STARTED: JobState.STARTED,
    JobStatus.FINISHED: JobState.FINISHED,
    JobStatus.FAILED: JobState.FAILED,
    JobStatus.STOPPED: JobState.STOPPED,
    JobStatus.CANCELED: JobState.CANCELED,
}


class RqJobInspector:
    """Reads job hashes in one pipeline, the live workers from RQ's worker registry. Raises QueueUnavailable.

    A worker is live when its last heartbeat is at most `worker_ttl` seconds old (adapters.rq.liveness).
    """

    def __init__(self, connection, serializer=JSONSerializer, worker_ttl: float = 30.0):
        self.connection = connection
        self.serializer = serializer
        self.worker_ttl = worker_ttl

    def inspect(self, task_ids: Iterable[int]) -> dict[int, JobReport]:
        ids = list(dict.fromkeys(task_ids))
        reports = {task_id: JobReport(JobState.MISSING) for task_id in ids}
        with queue_errors("read the jobs' states"):
            jobs = Job.fetch_many([str(i) for i in ids], connection=self.connection, serializer=self.serializer)
            for task_id, job in zip(ids, jobs):
                if job is not None:
                    reports[task_id] = self._report(job)
        return reports

    def live_workers(self) -> set[str]:
        with queue_errors("list the workers"):
            return live_worker_names(self.connection, self.worker_ttl)

    def foreign_jobs(self, known_ids: set[int]) -> list[str]:
        """Numeric jobs that are waiting, scheduled or running without an active row: they would run
        (and be refused by the ledger) or are running unrecorded."""
        known = {str(i) for i in known_ids}
        found: set[str] = set()
        with queue_errors("list the queues' jobs"):
            for queue in Queue.all(connection=self.connection, serializer=self.serializer):
                for job_id in (*queue.get_job_ids(), *queue.scheduled_job_registry.get_job_ids(cleanup=False),
                               *queue.started_job_registry.get_job_ids(cleanup=False)):
                    job_id = job_id.split(":")[0]  # a started registry entry may carry its execution id
                    if job_id.isdigit() and job_id not in known:
                        found.add(job_id)
        return sorted(found, key=int)

    def release_abandoned(self, task_id: int) -> None:
        """Takes the job's entries out of its queue's started registry (they name the dead worker's
        execution). Left there, RQ's clean-up would later take the job for abandoned: fail it, or
        retry it a second time, while its new delivery waits or runs."""
        with queue_errors(f"release the abandoned job of task {task_id}"):
            try:
                job = Job.fetch(str(task_id), connection=self.connection, serializer=self.serializer)
            except NoSuchJobError:
                return  # gone meanwhile: nothing left to release
            registry = Queue(job.origin, connection=self.connection, serializer=self.serializer).started_job_registry
            prefix = f"{task_id}:".encode()
            stale = [entry for entry in self.connection.zrange(registry.key, 0, -1)
                     if entry == str(task_id).encode() or entry.startswith(prefix)]
            if stale:
                self.connection.zrem(registry.key, *stale)

    def _report(self, job: Job) -> JobReport:
        state = _STATES.get(job.get_status(refresh=False), JobState.MISSING)
        if state is JobState.FINISHED:
            result = job.return_value(refresh=True)
            if isinstance(result, dict) and (NOT_STARTED in result or SUPERSEDED in result):
                # a duplicate delivery that ran nothing, or a late attempt the ledger refused
                return JobReport(state, result=result, superseded=True, ended_at=job.ended_at)
            if isinstance(result, dict) and isinstance(result.get(UNRECORDED), dict):
                unrecorded = result[UNRECORDED]
                return JobReport(state, result=unrecorded.get("result"), attempt=unrecorded.get("attempt"),
                                 ended_at=job.ended_at)
            return JobReport(state, result=result, ended_at=job.ended_at)
        if state is JobState.FAILED:
            latest = job.latest_result()
            return JobReport(state, error=(latest.exc_string or "").strip() or None if latest else None,
                             ended_at=job.ended_at)
        if state is JobState.STARTED:
            return JobReport(state, worker=job.worker_name or None)
        return JobReport(state)
