"""Revision 0003_schedule_owner on SQLite, PostgreSQL and MariaDB: a schedule written at 0002 survives the
upgrade with owner NULL, and registering the same call again (no owner) still revives it, not a second one."""

import hashlib
import json

import pytest
from alembic import command
from sqlalchemy import inspect, text

from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_ledger_engine, upgrade
from rqledger.adapters.sqlalchemy.migrate import alembic_config, head_revision
from rqledger.application.ports import ScheduleQuery
from rqledger.application.registry import TaskRegistry, task
from rqledger.application.schedules import ScheduleRequest
from rqledger.domain.schedule import ScheduleStatus
from tests.integration.sqlalchemy.use_case_service import sql_service

BEFORE = "0002_unique_task_key"
REVISION = "0003_schedule_owner"


def key_at_0002(name: str, args: list, kwargs: dict) -> str:
    """The natural key's hash as rqledger wrote it before owners: sha256 of the canonical [name, args, kwargs]."""
    canonical = json.dumps([name, args, kwargs], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def insert_0002_schedule(url: str, schema: str | None = None) -> None:
    row = {"key_hash": key_at_0002("report", ["daily"], {}), "name": "report", "description": "", "args": '["daily"]',
           "kwargs": "{}", "queue": "default", "status": "death", "cron": "0 * * * *", "timezone": "UTC",
           "runs_started": 4, "version": 3}
    table = f"{schema}.rqledger_scheduled_tasks" if schema else "rqledger_scheduled_tasks"
    engine = create_ledger_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"INSERT INTO {table} ({', '.join(row)}) VALUES "
                                    f"({', '.join(':' + c for c in row)})"), row)
    finally:
        engine.dispose()


@pytest.fixture
def registry():
    registry = TaskRegistry()

    @task(registry=registry)
    def report(kind: str) -> str:
        return kind

    return registry


def test_this_revision_follows_0002(tmp_path):
    assert upgrade(f"sqlite:///{tmp_path / 'ledger.db'}", revision=REVISION) == (None, REVISION)


def test_a_schedule_from_0002_keeps_its_row_with_no_owner_and_is_revived_by_the_same_call(empty_url, registry):
    assert upgrade(empty_url, revision=BEFORE) == (None, BEFORE)
    insert_0002_schedule(empty_url)
    assert upgrade(empty_url) == (BEFORE, head_revision())
    engine = create_ledger_engine(empty_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT id, name, status, runs_started, owner "
                                             "FROM rqledger_scheduled_tasks")).all()
        assert [tuple(row) for row in stored] == [(1, "report", "death", 4, None)]
        indexes = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("rqledger_scheduled_tasks")}
        assert indexes["ix_rqledger_scheduled_tasks_owner_id"] == ["owner", "id"]
        service = sql_service(engine, registry)
        revived, created = service.register_schedule(ScheduleRequest("report", ["daily"], cron="*/5 * * * *"))
        assert not created and revived.id == 1 and revived.status is ScheduleStatus.RUNNING
        owned, created = service.register_schedule(ScheduleRequest("report", ["daily"], owner=7, cron="0 * * * *"))
        assert created and owned.id != 1 and owned.owner == "7"
        assert [s.id for s in service.list_schedules(ScheduleQuery(owner="7")).items] == [owned.id]
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["mysql"], indirect=True)
def test_on_mariadb_the_owner_takes_the_table_s_binary_collation(empty_url):
    upgrade(empty_url, revision=BEFORE)
    upgrade(empty_url)
    engine = create_ledger_engine(empty_url)
    try:
        with engine.connect() as connection:
            collations = dict(connection.execute(text(
                "SELECT table_name, collation_name FROM information_schema.columns "
                "WHERE table_schema = DATABASE() AND column_name = 'owner'")).all())
        assert collations == {"rqledger_tasks": "utf8mb4_bin", "rqledger_scheduled_tasks": "utf8mb4_bin"}
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["postgresql"], indirect=True)
def test_in_a_ledger_schema_the_upgrade_from_0002_changes_the_schema_s_table(empty_url):
    assert upgrade(empty_url, revision=BEFORE, schema="ledger") == (None, BEFORE)
    insert_0002_schedule(empty_url, schema="ledger")
    assert upgrade(empty_url, schema="ledger") == (BEFORE, head_revision())
    engine = create_ledger_engine(empty_url, schema="ledger")
    try:
        inspector = inspect(engine)
        assert "owner" in {c["name"] for c in inspector.get_columns("rqledger_scheduled_tasks", schema="ledger")}
        assert inspector.get_table_names() == []  # nothing in the default schema
        uow = SqlAlchemyUnitOfWork(engine)
        with uow:
            assert uow.schedules.find("report", ["daily"], {}).owner is None
    finally:
        engine.dispose()


def test_the_downgrade_to_0002_keeps_every_schedule(empty_url, registry):
    upgrade(empty_url)
    engine = create_ledger_engine(empty_url)
    try:
        service = sql_service(engine, registry)
        owned, _ = service.register_schedule(ScheduleRequest("report", ["daily"], owner="ann", cron="0 * * * *"))
        unowned, _ = service.register_schedule(ScheduleRequest("report", ["daily"], cron="0 * * * *"))
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), BEFORE)
            connection.commit()
        assert "owner" not in {c["name"] for c in inspect(engine).get_columns("rqledger_scheduled_tasks")}
        with engine.connect() as connection:
            ids = connection.execute(text("SELECT id FROM rqledger_scheduled_tasks ORDER BY id")).scalars().all()
        assert ids == [owned.id, unowned.id]
        assert upgrade(engine) == (BEFORE, head_revision())
    finally:
        engine.dispose()
