"""The workers RQ knows of (its registry in Redis), as JSON-ready records: for `rqledger workers`, GET /api/workers
and the dashboard's Queues page."""

from __future__ import annotations

from datetime import datetime

from rq import Worker

from rqledger.adapters.rq.connection import queue_errors
from rqledger.adapters.rq.queue import queue_and_priority


class RqWorkers:
    def __init__(self, connection):
        self.connection = connection

    def __call__(self, now: datetime) -> list[dict]:
        """Every worker in RQ's registry, by name. Raises QueueUnavailable when Redis does not answer."""
        with queue_errors("list the workers"):
            found = sorted(Worker.all(connection=self.connection), key=lambda w: w.name)
            return [_record(worker, worker.get_current_job_id(), now) for worker in found]


class NoWorkers:
    """The memory backend: its worker runs in the caller's process and registers nowhere."""

    def __call__(self, now: datetime) -> list[dict]:
        return []


def _record(worker, job_id: str | None, now: datetime) -> dict:
    beat = worker.last_heartbeat
    return {
        "name": worker.name, "state": worker.get_state(), "queues": _queues(worker),
        "current_job_id": job_id,
        # a task's job id is its row id; a schedule's firing is `schedule-<id>-<ms>` (no task row)
        "current_task_id": int(job_id) if job_id is not None and job_id.isdigit() else None,
        "last_heartbeat": beat.isoformat() if beat else None,
        "heartbeat_age": round(max((now - beat).total_seconds(), 0.0), 1) if beat else None,
        "successful_jobs": worker.successful_job_count, "failed_jobs": worker.failed_job_count,
        "hostname": worker.hostname, "pid": worker.pid,
        "birth": worker.birth_date.isoformat() if worker.birth_date else None,
    }


def _queues(worker) -> list[str]:
    """The queues a worker serves, each once (it listens to their high, normal and low RQ queues)."""
    return list(dict.fromkeys(queue_and_priority(q.name)[0] for q in worker.queues))
