"""The one generic job entry of every task: RQ imports `entrypoints.jobs.run_task` by this fixed path.

A job carries only (task_id, name); what runs is looked up in the worker's own
task registry, never imported from a path that came with the job.
"""

from __future__ import annotations

from rq import get_current_job

from adapters.redis_events import RedisEventPublisher
from adapters.rq import LedgerJob
from entrypoints import runtime


def run_task(task_id: int, name: str):
    """Runs one delivery of task `task_id` (see adapters.rq.job for what RQ is told)."""
    job = get_current_job()
    return ledger_job(runtime.current(), getattr(job, "connection", None))(job, task_id, name)


def ledger_job(container, connection=None) -> LedgerJob:
    """The job body, wired from a container; its events go over the job's own Redis `connection` if given."""
    events = _events_over(container.events(), connection)
    return LedgerJob(
        execution=container.execution(events=events),
        registry=container.registry(),
        clock=container.clock(),
        events=events,
        progress_interval=container.config.progress_interval() or 2.0,
        outcome_patience=_setting(container.config.outcome_patience(), 30.0),
    )


def _events_over(events, connection):
    """A work-horse already has RQ's connection open: a publisher of its own would connect again per job."""
    if connection is not None and isinstance(events, RedisEventPublisher):
        return events.over(connection)
    return events


def _setting(value, default: float) -> float:
    return default if value is None else float(value)
