"""The task queue on RQ (Redis Queue): the queue adapter, the job body, the worker class, live progress.

Reusable pieces: `redis_connection(url)` (timeouts set), `queue_errors(doing)` (redis
errors -> QueueUnavailable), `LiveProgress(job, interval, on_write)` and
`read_live_progress(connection, job_ids)` (progress in RQ job meta).
"""

from adapters.rq.connection import queue_errors, redis_connection
from adapters.rq.failures import JobFailures
from adapters.rq.inspector import RqJobInspector
from adapters.rq.job import LedgerJob, TaskFailed
from adapters.rq.progress import LiveProgress, read_live_progress
from adapters.rq.queue import JOB_FUNC, RqTaskQueue, describe_call, job_id
from adapters.rq.worker import LedgerSimpleWorker, LedgerWorker

__all__ = [
    "redis_connection", "queue_errors", "JobFailures", "LedgerJob", "TaskFailed", "LiveProgress",
    "read_live_progress", "RqJobInspector", "JOB_FUNC", "RqTaskQueue", "describe_call", "job_id", "LedgerWorker",
    "LedgerSimpleWorker",
]
