"""The migrations create exactly the schema the tables describe, and `rqledger db upgrade` is repeatable."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from rqledger.adapters.sqlalchemy import create_ledger_engine, upgrade
from rqledger.adapters.sqlalchemy.migrate import MIGRATIONS, head_revision
from rqledger.adapters.sqlalchemy.tables import VERSION_TABLE, metadata

RQLEDGER = Path(sys.executable).with_name("rqledger")
HEAD = "0006_alerts"
LEDGER_TABLES = {"rqledger_alembic_version", "rqledger_tasks", "rqledger_task_attempts", "rqledger_scheduled_tasks",
                 "rqledger_scheduled_task_runs", "rqledger_queue_pauses",
                 "rqledger_alerts", "rqledger_alert_deliveries"}


def test_the_tables_and_the_migration_head_agree(kind, ledger_databases):
    engine = create_ledger_engine(ledger_databases.url(kind))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "compare_server_default": True,
                                                                   "version_table": VERSION_TABLE})
            assert context.get_current_revision() == head_revision()
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_the_migrations_ship_inside_the_package():
    assert MIGRATIONS.parent == Path(__file__).parents[3] / "adapters" / "sqlalchemy"
    assert (MIGRATIONS / "versions" / "__init__.py").exists()  # found by setuptools' package discovery
    assert head_revision() == HEAD


def db_upgrade(url: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run([str(RQLEDGER), "db", "upgrade", "--database-url", url], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.integration
def test_db_upgrade_on_an_empty_postgresql_creates_the_schema_and_a_second_run_changes_nothing(
        postgres_url, tmp_path):
    first = db_upgrade(postgres_url, tmp_path)  # from a folder with no alembic.ini in sight
    assert first.returncode == 0, first.stderr
    assert f"upgraded from an empty database to revision {HEAD}" in first.stdout
    engine = create_ledger_engine(postgres_url)
    try:
        assert set(inspect(engine).get_table_names()) == LEDGER_TABLES
        second = db_upgrade(postgres_url, tmp_path)
        assert second.returncode == 0, second.stderr
        assert f"already at revision {HEAD}; nothing to do" in second.stdout
        assert set(inspect(engine).get_table_names()) == LEDGER_TABLES
    finally:
        engine.dispose()


def test_db_upgrade_says_what_went_wrong(tmp_path):
    result = db_upgrade("postgresql://nobody:secret@127.0.0.1:1/nothing", tmp_path)
    assert result.returncode != 0
    assert "cannot upgrade postgresql+psycopg://nobody:***@127.0.0.1:1/nothing" in result.stderr
    assert "secret" not in result.stderr


def concurrent_upgrades(url: str, count: int = 3) -> list:
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(_try(upgrade, url))) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def assert_upgraded_once(outcomes: list) -> None:
    assert outcomes.count((None, HEAD)) == 1, outcomes
    assert outcomes.count((HEAD, HEAD)) == len(outcomes) - 1, outcomes


def _try(function, *args):
    try:
        return function(*args)
    except Exception as exc:  # reported by the assertion
        return exc


@pytest.mark.integration
def test_processes_starting_together_on_an_empty_postgresql_upgrade_it_once(postgres_url):
    outcomes = concurrent_upgrades(postgres_url)
    assert_upgraded_once(outcomes)


@pytest.mark.integration
def test_processes_starting_together_on_an_empty_mariadb_upgrade_it_once(mysql_url):
    outcomes = concurrent_upgrades(mysql_url)
    assert_upgraded_once(outcomes)


def test_processes_starting_together_on_a_new_sqlite_file_upgrade_it_once(tmp_path):
    outcomes = concurrent_upgrades(f"sqlite:///{tmp_path / 'ledger.db'}")
    assert_upgraded_once(outcomes)
