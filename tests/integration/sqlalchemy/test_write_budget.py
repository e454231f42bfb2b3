"""What one job costs in SQL: per-job writes are the ledger's price, so they are counted here."""

import re
from collections import Counter
from contextlib import contextmanager

from sqlalchemy import event

from rqledger.adapters.memory import FixedClock, InMemoryEvents
from rqledger.application.execution import TaskExecution
from rqledger.application.progress import set_progress
from rqledger.application.registry import TaskRegistry, task
from rqledger.application.tasks import TaskRequest
from rqledger.domain.task import Task
from tests.contract.builders import NOW
from tests.integration.sqlalchemy.use_case_service import sql_service


@contextmanager
def statements(engine):
    """Counts the statements sent, as "VERB table"."""
    seen = Counter()

    def count(conn, cursor, statement, parameters, context, executemany):
        words = statement.split()
        verb = words[0].upper()
        table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+[`\"]?(\w+)", statement, re.IGNORECASE)
        seen[f"{verb} {table.group(1) if table else ''}".strip()] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def queued_task(uow) -> int:
    with uow:
        task = uow.tasks.add(Task(name="t", created_at=NOW))
        uow.commit()
    return task.id


def test_starting_a_task_is_one_select_one_update_and_one_insert(uow, engine):
    execution = TaskExecution(uow, FixedClock(), InMemoryEvents())
    task_id = queued_task(uow)
    with statements(engine) as seen:
        execution.start(task_id, "w")
    assert seen == {"SELECT rqledger_tasks": 1, "UPDATE rqledger_tasks": 1, "INSERT rqledger_task_attempts": 1}


def test_finishing_a_task_is_two_selects_and_two_updates(uow, engine):
    execution = TaskExecution(uow, FixedClock(), InMemoryEvents())
    task_id = queued_task(uow)
    execution.start(task_id, "w")
    with statements(engine) as seen:
        execution.finish(task_id, 1, {"ok": True})
    assert seen == {"SELECT rqledger_tasks": 1, "SELECT rqledger_task_attempts": 1, "UPDATE rqledger_tasks": 1,
                    "UPDATE rqledger_task_attempts": 1}


def test_progress_is_one_update(uow, engine):
    execution = TaskExecution(uow, FixedClock(), InMemoryEvents())
    task_id = queued_task(uow)
    execution.start(task_id, "w")
    with statements(engine) as seen:
        assert execution.record_progress(task_id, 1, 30) is True
    assert seen == {"UPDATE rqledger_tasks": 1}


def test_a_task_reporting_progress_10000_times_writes_it_a_few_times(engine):
    registry = TaskRegistry()

    @task(registry=registry)
    def counts_to_100():
        for i in range(10_000):
            set_progress(i // 100)
        return "done"

    service = sql_service(engine, registry)
    service.enqueue(TaskRequest("counts_to_100"))
    with statements(engine) as seen:
        service.worker.work()
    assert seen["UPDATE rqledger_tasks"] < 10
