"""Revision 0005_priority_and_pauses on SQLite, PostgreSQL and MariaDB: tasks written at 0004 survive the upgrade
with priority `normal`, the pauses table works, and the downgrade gives 0004's schema back."""

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import inspect, text

from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_ledger_engine, upgrade
from rqledger.adapters.sqlalchemy.migrate import alembic_config
from rqledger.adapters.sqlalchemy.queue_pauses import SqlQueuePauses
from rqledger.domain.queue import QueuePause
from rqledger.domain.task import Priority, Task

BEFORE = "0004_schedule_catch_up"
REVISION = "0005_priority_and_pauses"
AT = datetime(2026, 12, 5, 9, 30, tzinfo=timezone.utc)


def insert_0004_task(url: str) -> None:
    row = {"name": "report", "description": "", "args": "[1]", "kwargs": "{}", "status": "queued", "progress": 0,
           "log": "", "queue": "default", "is_unique": False, "attempts": 0, "retry_base": 0, "version": 1}
    engine = create_ledger_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"INSERT INTO rqledger_tasks ({', '.join(row)}) VALUES "
                                    f"({', '.join(':' + c for c in row)})"), row)
    finally:
        engine.dispose()


def test_tasks_from_0004_are_normal_and_pauses_are_kept(empty_url):
    assert upgrade(empty_url, revision=BEFORE) == (None, BEFORE)
    insert_0004_task(empty_url)
    assert upgrade(empty_url, revision=REVISION) == (BEFORE, REVISION)
    engine = create_ledger_engine(empty_url)
    try:
        uow = SqlAlchemyUnitOfWork(engine)
        with uow:
            assert uow.tasks.get(1).priority is Priority.NORMAL
            uow.tasks.add(Task(name="urgent", priority=Priority.HIGH))
            uow.commit()
        with uow:
            assert uow.tasks.get(2).priority is Priority.HIGH
        pauses = SqlQueuePauses(engine)
        first = pauses.pause(QueuePause("default", AT, "ops", "the relay is down: ünïcode too"))
        assert pauses.pause(QueuePause("default", AT.replace(hour=10), "someone else")) == first
        assert pauses.paused() == {"default": first}
        assert pauses.resume("default") == first and pauses.resume("default") is None
        assert pauses.paused() == {}
    finally:
        engine.dispose()


def test_the_downgrade_to_0004_drops_the_pauses_and_the_priorities(empty_url):
    upgrade(empty_url, revision=REVISION)
    insert_0004_task(empty_url)
    engine = create_ledger_engine(empty_url)
    try:
        SqlQueuePauses(engine).pause(QueuePause("default", AT))
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), BEFORE)
            connection.commit()
        inspector = inspect(engine)
        assert "rqledger_queue_pauses" not in inspector.get_table_names()
        assert "priority" not in {c["name"] for c in inspector.get_columns("rqledger_tasks")}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT name FROM rqledger_tasks")).scalars().all() == ["report"]
        assert upgrade(engine, revision=REVISION) == (BEFORE, REVISION)
    finally:
        engine.dispose()
