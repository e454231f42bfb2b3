"""The engine factory and the unit of work's edges: URLs, SQLite settings, threads, errors that cross no port."""

import sqlite3
import threading

import pytest
from sqlalchemy import text

from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_ledger_engine, normalize_url, upgrade
from rqledger.application.errors import StorageUnavailable
from rqledger.application.ports import TaskQuery
from rqledger.domain.task import Task
from tests.contract.databases import sql_params
from tests.services import free_port


@pytest.mark.parametrize("given, expected", [
    ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ("postgresql://u@h:5433/db", "postgresql+psycopg://u@h:5433/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("mysql://root@h/db", "mysql+pymysql://root@h/db?charset=utf8mb4"),
    ("mysql+pymysql://root@h/db?charset=utf8", "mysql+pymysql://root@h/db?charset=utf8"),
    ("mariadb://root@h/db", "mariadb+pymysql://root@h/db?charset=utf8mb4"),
    ("sqlite:///ledger.db", "sqlite:///ledger.db"),
])
def test_plain_urls_get_the_drivers_of_the_base_install(given, expected):
    assert normalize_url(given).render_as_string(hide_password=False) == expected


def test_sqlite_is_shared_safely_between_processes(tmp_path):
    engine = create_ledger_engine(f"sqlite:///{tmp_path / 'new' / 'folder' / 'ledger.db'}")
    try:
        with engine.connect() as connection:
            settings = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                        for name in ("journal_mode", "foreign_keys", "busy_timeout")}
        assert settings == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000}
        assert (tmp_path / "new" / "folder" / "ledger.db").exists()
    finally:
        engine.dispose()


def test_opening_a_new_sqlite_file_that_another_process_holds_waits_for_it(tmp_path):
    # a process that starts first on a new file holds it while it turns it to WAL: the next one waits
    path = tmp_path / "ledger.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE first_one (x)")
    threading.Timer(0.3, lambda: holder.execute("COMMIT")).start()
    engine = create_ledger_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
        holder.close()


def test_an_unreachable_database_is_storage_unavailable():
    uow = SqlAlchemyUnitOfWork(create_ledger_engine(f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"))
    try:
        with pytest.raises(StorageUnavailable, match="the database failed: connection failed"), uow:
            uow.tasks.get(1)
    finally:
        uow.engine.dispose()


def test_a_database_without_the_schema_is_storage_unavailable(tmp_path):
    uow = SqlAlchemyUnitOfWork(create_ledger_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    try:
        with pytest.raises(StorageUnavailable, match="no such table: rqledger_tasks"), uow:
            uow.tasks.list(TaskQuery())
    finally:
        uow.engine.dispose()


def test_units_of_work_do_not_nest(uow):
    with uow, pytest.raises(RuntimeError, match="do not nest"):
        with uow:
            pass


def test_a_repository_outside_a_unit_of_work_says_so(uow):
    with pytest.raises(RuntimeError, match="inside `with uow:`"):
        uow.tasks.get(1)


def test_threads_sharing_one_unit_of_work_each_have_their_own_transaction(uow):
    added, looked = threading.Event(), threading.Event()
    seen = {}

    def writer():
        with uow:
            seen["id"] = uow.tasks.add(Task(name="t")).id
            added.set()
            looked.wait(timeout=30)
            uow.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert added.wait(timeout=30)
        with uow:  # this thread's own transaction: the other's uncommitted row is not there
            seen["before"] = [t.id for t in uow.tasks.list(TaskQuery()).items]
    finally:
        looked.set()
        thread.join(timeout=30)
    with uow:
        assert [t.id for t in uow.tasks.list(TaskQuery()).items] == [seen["id"]]
    assert seen["before"] == []


@pytest.mark.parametrize("kind", sql_params("postgresql", "mysql"), indirect=True)
def test_a_connection_killed_under_the_pool_costs_nothing(uow, engine, kind):
    """The next unit of work gets a fresh connection (pre-ping), so a database restart fails no job."""
    with uow:
        uow.tasks.add(Task(name="t"))
        uow.commit()
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
    with uow:
        assert len(uow.tasks.list(TaskQuery()).items) == 1


def test_upgrade_reports_the_revisions(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert upgrade(url) == (None, "0006_alerts")
    assert upgrade(url) == ("0006_alerts", "0006_alerts")


def test_an_in_memory_sqlite_ledger_is_upgraded_through_its_engine():
    engine = create_ledger_engine("sqlite://")
    try:
        assert upgrade(engine) == (None, "0006_alerts")
        uow = SqlAlchemyUnitOfWork(engine)
        with uow:
            task = uow.tasks.add(Task(name="t"))
            uow.commit()
        with uow:
            assert uow.tasks.get(task.id).name == "t"
    finally:
        engine.dispose()


def test_the_durable_default_waits_for_the_flush_and_fast_mode_does_not_on_postgresql():
    from tests.services import POSTGRES_URL, reachable, unavailable

    reason = reachable(POSTGRES_URL)
    if reason:
        unavailable("PostgreSQL", reason)
    seen = {}
    for mode in ("durable", "fast"):
        engine = create_ledger_engine(POSTGRES_URL, durability=mode)
        try:
            with engine.connect() as connection:
                seen[mode] = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
        finally:
            engine.dispose()
    assert seen == {"durable": "on", "fast": "off"}


def test_fast_mode_on_sqlite_skips_the_sync_and_keeps_wal(tmp_path):
    engine = create_ledger_engine(f"sqlite:///{tmp_path / 'ledger.db'}", durability="fast")
    try:
        with engine.connect() as connection:
            settings = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                        for name in ("journal_mode", "synchronous", "foreign_keys")}
        assert settings == {"journal_mode": "wal", "synchronous": 0, "foreign_keys": 1}
    finally:
        engine.dispose()
