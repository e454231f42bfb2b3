"""The one generic job entry of every task: RQ imports `entrypoints.jobs.run_task` by this fixed path.

A job carries only (task_id, name); what runs is looked up in the worker's own
task registry, never imported from a path that came with the job.
"""

from __future__ import annotations

import copy

from rq import get_current_job

from adapters.memory import InMemoryEvents, InMemoryStore, InMemoryUnitOfWork
from adapters.redis_events import RedisEventPublisher
from adapters.rq import LedgerJob
from adapters.rq import handoff as handoffs
from adapters.rq.job import not_started
from application.execution import TaskExecution
from domain.task import Task
from entrypoints import runtime


def run_task(task_id: int, name: str):
    """Runs one delivery of task `task_id` (see adapters.rq.job for what RQ is told)."""
    job = get_current_job()
    handoff = handoffs.active() if job is not None else None
    started = handoff.started(job.id) if handoff is not None else None
    if started == handoffs.REFUSED:
        return not_started(task_id, name)
    container = runtime.current()
    body = ledger_job(container, getattr(job, "connection", None))
    if isinstance(started, Task):
        def hand_back(ended: Task) -> None:
            if not handoff.hand_back(job.id, ended):  # the worker died under this horse: nobody else will
                body.progress_execution.conclude(started, ended)

        body = handed_over(body, container, started, hand_back)
    return body(job, task_id, name)


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


def handed_over(body: LedgerJob, container, started: Task, hand_back) -> LedgerJob:
    """The job body of an attempt the worker process started (adapters.rq.handoff): it ends the attempt on a
    copy of the row, in memory, and hands the ended task back; only progress goes to the ledger from here."""
    store = InMemoryStore()
    store.tasks[started.id] = copy.deepcopy(started)
    body.progress_execution = body.execution
    body.execution = TaskExecution(uow=InMemoryUnitOfWork(store), clock=container.clock(), events=InMemoryEvents())
    body.started = started
    body.on_ended = hand_back
    return body


def _events_over(events, connection):
    """A work-horse already has RQ's connection open: a publisher of its own would connect again per job."""
    if connection is not None and isinstance(events, RedisEventPublisher):
        return events.over(connection)
    return events


def _setting(value, default: float) -> float:
    return default if value is None else float(value)
