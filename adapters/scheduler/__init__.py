"""The Scheduler port on rq-scheduler: triggers in rq-scheduler's storage, one fresh JSON RQ job per firing; and
the ports of the schedules' maintenance steps (TriggerStore: RqScheduler; RunJobs: RqRunJobs)."""

from rqledger.adapters.scheduler.json_job import JSONJob
from rqledger.adapters.scheduler.ledger_scheduler import LedgerScheduler
from rqledger.adapters.scheduler.lock import RedisLock
from rqledger.adapters.scheduler.rq_scheduler import RqScheduler, StoredTrigger
from rqledger.adapters.scheduler.run_failures import RunFailures
from rqledger.adapters.scheduler.run_jobs import RqRunJobs
from rqledger.adapters.scheduler.trigger import Trigger, run_job_id, trigger_job_id

__all__ = [
    "JSONJob", "LedgerScheduler", "RedisLock", "RqRunJobs", "RqScheduler", "RunFailures", "StoredTrigger", "Trigger",
    "run_job_id", "trigger_job_id",
]
