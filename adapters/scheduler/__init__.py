"""The Scheduler port on rq-scheduler: triggers in rq-scheduler's storage, one fresh JSON RQ job per firing."""

from adapters.scheduler.json_job import JSONJob
from adapters.scheduler.ledger_scheduler import LedgerScheduler
from adapters.scheduler.lock import RedisLock
from adapters.scheduler.reconciler import ScheduleReconciler, ScheduleReconcileReport
from adapters.scheduler.rq_scheduler import RqScheduler, StoredTrigger
from adapters.scheduler.run_failures import RunFailures
from adapters.scheduler.stuck_runs import StuckRuns
from adapters.scheduler.trigger import Trigger, run_job_id, trigger_job_id

__all__ = [
    "JSONJob", "LedgerScheduler", "RedisLock", "ScheduleReconciler", "ScheduleReconcileReport", "RqScheduler",
    "RunFailures", "StoredTrigger", "StuckRuns", "Trigger", "run_job_id", "trigger_job_id",
]
