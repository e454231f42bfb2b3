"""The one generic job entry of every task: RQ imports `rqledger.entrypoints.task_entry.run_task` by this fixed path.

A job carries only (task_id, name); what runs is looked up in the worker's own
task registry, never imported from a path that came with the job.
"""

from __future__ import annotations

import copy

from rq import get_current_job

from rqledger.adapters.memory import InMemoryEvents, InMemoryStore, InMemoryUnitOfWork
from rqledger.adapters.redis_events import RedisEventPublisher
from rqledger.adapters.rq import LedgerJob
from rqledger.adapters.rq import handoff as handoffs
from rqledger.adapters.rq.delivery import not_started
from rqledger.application.execution import TaskExecution
from rqledger.domain.task import Task
from rqledger.entrypoints import runtime


def run_task(task_id: int, name: str):
    """Runs one delivery of task `task_id` (see rqledger.adapters.rq.delivery for what RQ is told)."""
    job = get_current_job()
    handoff = handoffs.active() if job is not None else None
    started = handoff.started(job.id) if handoff is not None else None
    if started == handoffs.REFUSED:
        return not_started(task_id, name)
    connection = getattr(job, "connection", None)
    if not isinstance(started, Task):
        return ledger_job(runtime.current(), connection)(job, task_id, name)
    return handed_over(runtime.current(), connection, started, lambda ended: handoff.hand_back(job.id, ended))(
        job, task_id, name)


def ledger_job(container, connection=None, **overrides) -> LedgerJob:
    """The job body, wired from a container; its events go over the job's own Redis `connection` if given.
    `overrides` replace fields of LedgerJob (see handed_over)."""
    events = _events_over(container.events(), connection)
    options = dict(
        execution=container.execution(events=events),
        registry=container.registry(),
        clock=container.clock(),
        events=events,
        progress_interval=container.config.progress_interval() or 2.0,
        outcome_patience=_setting(container.config.outcome_patience(), 30.0),
        gate=container.attempt_gate(),
    )
    return LedgerJob(**{**options, **overrides})


def handed_over(container, connection, started: Task, hand_back) -> LedgerJob:
    """The job body of an attempt the worker process started (rqledger.adapters.rq.handoff): it ends the attempt on a
    copy of the row, in memory, and hands the ended task back; only progress goes to the ledger from here.
    `hand_back(ended)` is False when the worker died under this horse: then the horse writes it itself."""
    store = InMemoryStore()
    store.tasks[started.id] = copy.deepcopy(started)
    ledger = container.execution(events=_events_over(container.events(), connection))  # progress; an orphan's end

    def on_ended(ended: Task) -> None:
        if not hand_back(ended):
            ledger.conclude(started, ended)

    return ledger_job(container, connection, started=started, on_ended=on_ended, progress_execution=ledger,
                      execution=TaskExecution(uow=InMemoryUnitOfWork(store), clock=container.clock(),
                                              events=InMemoryEvents()))


def _events_over(events, connection):
    """A work-horse already has RQ's connection open: a publisher of its own would connect again per job."""
    if connection is not None and isinstance(events, RedisEventPublisher):
        return events.over(connection)
    return events


def _setting(value, default: float) -> float:
    return default if value is None else float(value)
