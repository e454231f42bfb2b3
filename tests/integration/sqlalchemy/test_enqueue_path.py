"""The enqueue's SQL: one statement per batch, no ping per unit of work, and still no failed unit after a
connection died under the pool (the checkout's poll, or the unit's first statement run again)."""

import time

import pytest
from sqlalchemy import event, text

from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_ledger_engine
from rqledger.adapters.sqlalchemy.engine import _closed_by_the_server
from rqledger.application.ports import TaskQuery
from rqledger.domain.task import Task
from tests.contract.databases import sql_params


@pytest.fixture
def statements(engine):
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_a_batch_of_tasks_is_one_insert_where_the_database_returns_ids(uow, engine, statements):
    with uow:
        added = uow.tasks.add_many([Task(name=f"t{i}") for i in range(50)])
        uow.commit()
    if engine.dialect.name == "postgresql":  # the ids from the sequence, then one executemany of the INSERT
        assert statements == ["SELECT", "INSERT"]
    elif engine.dialect.insert_executemany_returning_sort_by_parameter_order:
        assert statements == ["INSERT"]
    else:  # MySQL without RETURNING: one per task, still one transaction
        assert statements == ["INSERT"] * 50
    with uow:
        assert [t.name for t in uow.tasks.list(TaskQuery(limit=100)).items] == [f"t{i}" for i in reversed(range(50))]
    assert [t.id for t in added] == sorted(t.id for t in added)


def test_a_unit_of_work_pings_nobody(engine):
    assert not engine.pool._pre_ping


def _kill_the_pooled_connection(engine, kind) -> int:
    with engine.connect() as victim:
        if kind == "postgresql":
            pid = victim.execute(text("SELECT pg_backend_pid()")).scalar()
            kill = text("SELECT pg_terminate_backend(:pid)")
        else:
            pid = victim.execute(text("SELECT CONNECTION_ID()")).scalar()
            kill = text(f"KILL {int(pid)}")
        victim.rollback()
    with create_ledger_engine(engine.url).connect() as killer:
        killer.execute(kill, {"pid": pid})
        # the kill is asynchronous (pg_terminate_backend only signals the backend): the connection is
        # dead once the server no longer lists it, as after a restart
        listed = (text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid") if kind == "postgresql"
                  else text("SELECT count(*) FROM information_schema.processlist WHERE id = :pid"))
        deadline = time.monotonic() + 10
        while killer.execute(listed, {"pid": pid}).scalar() and time.monotonic() < deadline:
            killer.rollback()
            time.sleep(0.01)
    return pid


@pytest.mark.parametrize("kind", sql_params("postgresql", "mysql"), indirect=True)
def test_a_plain_engine_user_gets_a_fresh_connection_for_a_killed_one_without_a_ping(engine, kind):
    engine.dispose()  # one pooled connection: the victim is the one the next checkout takes
    pid = _kill_the_pooled_connection(engine, kind)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
        own = "SELECT pg_backend_pid()" if kind == "postgresql" else "SELECT CONNECTION_ID()"
        assert connection.execute(text(own)).scalar() != pid


@pytest.mark.parametrize("kind", sql_params("postgresql", "mysql"), indirect=True)
def test_the_first_statement_of_a_unit_runs_again_on_a_fresh_connection_when_the_pooled_one_is_dead(engine, kind):
    """A death the checkout's poll cannot see (here: the poll switched off) costs the unit nothing either."""
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.tasks.add(Task(name="t"))
        uow.commit()
    engine.dispose()
    event.remove(engine, "checkout", _closed_by_the_server)
    try:
        _kill_the_pooled_connection(engine, kind)
        with uow:
            assert len(uow.tasks.list(TaskQuery()).items) == 1
            uow.tasks.add(Task(name="u"))
            uow.commit()
    finally:
        event.listen(engine, "checkout", _closed_by_the_server)
    with uow:
        assert len(uow.tasks.list(TaskQuery()).items) == 2
