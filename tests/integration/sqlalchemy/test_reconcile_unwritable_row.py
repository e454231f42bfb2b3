"""The reconciler on SQLite, PostgreSQL and MariaDB: a row its database refuses to write is skipped, marked and
logged, and the other rows are still repaired; text no database holds as it is (NUL) is written readably."""

from contextlib import contextmanager

import pytest
from rqledger.adapters.memory.inspector import InMemoryJobInspector
from rqledger.application.reconcile import JobReport, JobState, Reconcile
from rqledger.application.registry import TaskRegistry, task
from rqledger.application.tasks import TaskRequest
from rqledger.domain.task import TaskStatus
from tests.integration.sqlalchemy.use_case_service import sql_service

REFUSAL = "planted: this row refuses a status change"

# Each database's way of refusing one row's status change (a note to its log still goes through).
PLANT = {
    "sqlite": [
        f"""CREATE TRIGGER rqledger_t_refuse BEFORE UPDATE OF status ON rqledger_tasks
            WHEN OLD.id = :id AND NEW.status <> OLD.status BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
    ],
    "postgresql": [
        f"""CREATE FUNCTION rqledger_t_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$""",
        """CREATE TRIGGER rqledger_t_refuse BEFORE UPDATE ON rqledger_tasks FOR EACH ROW
            WHEN (OLD.id = :id AND NEW.status <> OLD.status) EXECUTE FUNCTION rqledger_t_refuse()""",
    ],
    "mysql": [
        f"""CREATE TRIGGER rqledger_t_refuse BEFORE UPDATE ON rqledger_tasks FOR EACH ROW BEGIN
            IF OLD.id = :id AND NEW.status <> OLD.status THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{REFUSAL}'; END IF; END""",
    ],
}
UNPLANT = {
    "sqlite": ["DROP TRIGGER IF EXISTS rqledger_t_refuse"],
    "postgresql": ["DROP TRIGGER IF EXISTS rqledger_t_refuse ON rqledger_tasks",
                   "DROP FUNCTION IF EXISTS rqledger_t_refuse()"],
    "mysql": ["DROP TRIGGER IF EXISTS rqledger_t_refuse"],
}


@contextmanager
def unwritable(engine, kind: str, task_id: int):
    """While inside, the database refuses any status change of that task's row."""
    with engine.begin() as connection:
        for statement in PLANT[kind]:
            connection.exec_driver_sql(statement.replace(":id", str(int(task_id))))  # DDL: no bound parameters
    try:
        yield
    finally:
        with engine.begin() as connection:
            for statement in UNPLANT[kind]:
                connection.exec_driver_sql(statement)


@pytest.fixture
def service(engine):
    registry = TaskRegistry()

    @task(registry=registry)
    def add(a: int, b: int) -> int:
        return a + b

    return sql_service(engine, registry)


@pytest.fixture
def reconcile(service):
    return Reconcile(service.uow, service.queue, InMemoryJobInspector(service.queue), service.execution,
                     service.clock, service.events, grace=10)


def running_on_a_dead_worker(service, reconcile, count: int) -> list[int]:
    ids = [service.enqueue(TaskRequest("add", [i, i])).id for i in range(count)]
    service.queue.take_due()
    for task_id in ids:
        service.execution.start(task_id, "w-dead")
        reconcile.inspector.states[task_id] = JobReport(JobState.STARTED)
    return ids


def test_a_row_that_cannot_be_written_does_not_stop_the_repair_of_the_others(service, reconcile, engine, kind,
                                                                               caplog):
    first, bad, last = running_on_a_dead_worker(service, reconcile, 3)
    with unwritable(engine, kind, bad):
        report = reconcile()
        assert sorted(report.ended) == [first, last]  # the rows listed before and after the bad one
        assert list(report.unrepaired) == [bad] and REFUSAL in report.unrepaired[bad]
        assert f"task {bad} was not repaired" in caplog.text and REFUSAL in caplog.text
        marked = service.get(bad)
        assert marked.status is TaskStatus.RUNNING
        assert "the reconciler could not repair it: " in marked.log and REFUSAL in marked.log

        assert list(reconcile().unrepaired) == [bad]  # tried again on every pass, but marked only once
        assert service.get(bad).log.count("could not repair it") == 1
    for task_id in (first, last):
        assert service.get(task_id).status is TaskStatus.FAILED

    assert reconcile().ended == [bad]  # writable again: repaired like the others
    assert service.get(bad).status is TaskStatus.FAILED


def test_a_queue_error_holding_nul_ends_the_attempt_with_a_readable_log(service, reconcile):
    (task_id,) = running_on_a_dead_worker(service, reconcile, 1)
    reconcile.inspector.states[task_id] = JobReport(JobState.FAILED, error="ValueError: bad input 'a\x00b'")
    service.clock.advance(11)  # past the grace a failed job's worker has to write its outcome
    assert reconcile().ended == [task_id]
    failed = service.get(task_id)
    assert failed.status is TaskStatus.FAILED
    assert "ValueError: bad input 'a\\x00b'" in failed.log  # NUL written as Python's repr writes it
    assert failed.history[-1].error.endswith("ValueError: bad input 'a\\x00b'")
