"""The queue's view of our jobs on RQ, for the reconciler (rqledger.application.reconcile.JobInspector)."""

from __future__ import annotations

from typing import Iterable

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from rqledger.adapters.rq.connection import queue_errors
from rqledger.adapters.rq.delivery import NOT_STARTED, SUPERSEDED, UNRECORDED
from rqledger.adapters.rq.liveness import live_worker_names, running_tasks
from rqledger.application.reconcile import JobReport, JobState

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

    A worker is live when its last heartbeat is at most `worker_ttl` seconds old (rqledger.adapters.rq.liveness).
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
            waiting = [(task_id, job) for task_id, job in zip(ids, jobs)
                       if job is not None and reports[task_id].state is JobState.WAITING]
            for task_id in self._held_by_no_queue(waiting):
                reports[task_id] = JobReport(JobState.MISSING)
        return reports

    def _held_by_no_queue(self, waiting: list) -> list[int]:
        """Of jobs whose status says they wait, those that no list or registry holds: nothing will ever deliver
        them (seen in the chaos test: a retried job left 'queued' in no queue, its row queued for good).

        One MULTI snapshot of the statuses and of every origin's queue, intermediate queue (taken by a worker
        a moment ago), scheduled and deferred registries, so a job moving between them is never missed."""
        if not waiting:
            return []
        origins = {}
        for _, job in waiting:
            origins.setdefault(job.origin, Queue(job.origin, connection=self.connection, serializer=self.serializer))
        with self.connection.pipeline(transaction=True) as pipe:
            for _, job in waiting:
                pipe.hget(job.key, "status")
            for queue in origins.values():
                pipe.lrange(queue.key, 0, -1)
                pipe.lrange(queue.intermediate_queue_key, 0, -1)
                pipe.zrange(queue.scheduled_job_registry.key, 0, -1)
                pipe.zrange(queue.deferred_job_registry.key, 0, -1)
            answers = pipe.execute()
        statuses, lists = answers[:len(waiting)], answers[len(waiting):]
        held: dict[str, set[str]] = {}
        for index, name in enumerate(origins):
            members = set()
            for entries in lists[4 * index:4 * index + 4]:
                members.update(entry.decode().split(":")[0] for entry in entries)
            held[name] = members
        lost = []
        for (task_id, job), status in zip(waiting, statuses):
            still_waiting = status is not None and status.decode() in (JobStatus.QUEUED.value, JobStatus.SCHEDULED.value,
                                                                       JobStatus.DEFERRED.value)
            if still_waiting and job.id not in held[job.origin]:
                lost.append(task_id)
        return lost

    def live_workers(self) -> set[str]:
        with queue_errors("list the workers"):
            return live_worker_names(self.connection, self.worker_ttl)

    def still_running(self, task_id: int) -> bool:
        """Whether a work-horse of the task signed its life within `worker_ttl` (rqledger.adapters.rq.liveness.LifeSign):
        e.g. the orphan of a SIGKILLed worker, which still runs the attempt and records its outcome itself."""
        with queue_errors(f"read the signs of life of task {task_id}"):
            return task_id in running_tasks(self.connection, [task_id], self.worker_ttl)

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
