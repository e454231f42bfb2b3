"""The one generic job entry of every task: RQ imports `entrypoints.jobs.run_task` by this fixed path.

A job carries only (task_id, name); what runs is looked up in the worker's own
task registry, never imported from a path that came with the job.
"""

from __future__ import annotations

from rq import get_current_job

from adapters.rq import LedgerJob
from entrypoints import runtime


def run_task(task_id: int, name: str):
    """Runs one delivery of task `task_id` (see adapters.rq.job for what RQ is told)."""
    return ledger_job(runtime.current())(get_current_job(), task_id, name)


def ledger_job(container) -> LedgerJob:
    """The job body, wired from a container."""
    return LedgerJob(
        execution=container.execution(),
        registry=container.registry(),
        clock=container.clock(),
        events=container.events(),
        progress_interval=container.config.progress_interval() or 2.0,
        outcome_patience=_setting(container.config.outcome_patience(), 30.0),
    )


def _setting(value, default: float) -> float:
    return default if value is None else float(value)
