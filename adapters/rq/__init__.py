"""The task queue on RQ (Redis Queue): the queue adapter, the job body, the worker class, live progress.

How it keeps the ledger true:

- One task = one ordinary RQ job: id str(task.id), the task's queue and timeout, JSON
  serializer, the fixed function `rqledger.entrypoints.task_entry.run_task(task_id, name)`, RQ's
  default result TTL. `enqueue_many` puts a whole batch in one Redis pipeline.
- The ledger decides retries (Task.record_failure); RQ never retries on its own. The
  job body (LedgerJob) returns the result (RQ: finished), returns `rq.Retry` with the
  ledger's delay when the row was requeued (RQ reschedules the same job; a worker's
  scheduler runs it, never before the delay), or raises TaskFailed when the row failed
  for good (RQ: failed). So no callback ever marks a row failed while a retry is due.
- Failures outside the task function reach the worker's `handle_job_failure`
  (LedgerWorker, via JobFailures): an exception while the ledger is written or the
  result stored, a timeout that struck there (in the work-horse), a killed work-horse
  or a stop command (in the parent), a cold shutdown. The row's attempt is ended
  there (canceled for a stop), and `job.retries_left`/`retry_intervals` are set to the
  ledger's decision before RQ acts. A timeout inside the function is caught by the body
  and logged as "timed out after N s".
- Outcomes the ledger cannot take: a write refused because the row moved on (an orphaned
  or late attempt) makes the job return {SUPERSEDED: ...}; a database that stays down
  past RQLEDGER_OUTCOME_PATIENCE makes it return {UNRECORDED: {attempt, result}} or raise
  OutcomeNotRecorded, which the reconciler (RqJobInspector) writes onto that attempt only.
- Liveness (liveness.py): a worker is alive while its last heartbeat is younger than
  RQLEDGER_WORKER_TTL (it heartbeats four times per period); outages.py keeps a worker
  going through a Redis restart and registers it again when Redis lost it.
- Progress: every set_progress goes to the live channel (job.meta['progress'],
  written at most every 0.3 s, the last value of a burst by a timer) and to
  ThrottledProgress, which writes the row at most every RQLEDGER_PROGRESS_INTERVAL
  seconds (default 2) and at the end (100). A ledger that refuses a progress write
  never fails the task.

Reusable pieces: `redis_connection(url)` (timeouts set), `queue_errors(doing)` (redis
errors -> QueueUnavailable), `LiveProgress(job, interval, on_write)` and
`read_live_progress(connection, job_ids)` (progress in RQ job meta), `RqJobInspector`
(the reconciler's view of jobs and workers), LedgerWorker's `failure_handlers`.
"""

from rqledger.adapters.rq.connection import queue_errors, redis_connection
from rqledger.adapters.rq.failures import JobFailures
from rqledger.adapters.rq.inspector import RqJobInspector
from rqledger.adapters.rq.handoff import AttemptHandoff
from rqledger.adapters.rq.delivery import LedgerJob, TaskFailed
from rqledger.adapters.rq.progress import LiveProgress, read_live_progress
from rqledger.adapters.rq.queue import JOB_FUNC, RqTaskQueue, describe_call, job_id
from rqledger.adapters.rq.worker import LedgerSimpleWorker, LedgerWorker

__all__ = [
    "redis_connection", "queue_errors", "JobFailures", "AttemptHandoff", "LedgerJob", "TaskFailed", "LiveProgress",
    "read_live_progress", "RqJobInspector", "JOB_FUNC", "RqTaskQueue", "describe_call", "job_id", "LedgerWorker",
    "LedgerSimpleWorker",
]
