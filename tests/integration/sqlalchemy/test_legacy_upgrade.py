"""A database of the version before the `rqledger_` prefix upgrades in place: every row kept, the history moved."""

from datetime import timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_ledger_engine, upgrade
from rqledger.adapters.sqlalchemy.legacy import LegacyLedgerConflict
from rqledger.adapters.sqlalchemy.migrate import head_revision
from rqledger.adapters.sqlalchemy.tables import VERSION_TABLE, metadata
from rqledger.application.ports import TaskQuery
from rqledger.domain.schedule import ScheduledTaskInstance
from rqledger.domain.task import TaskStatus
from rqledger.entrypoints.cli import main
from tests.contract.builders import a_task, later
from tests.integration.sqlalchemy.legacy_ledger import (NEW_TABLES, OLD_REVISION, T0, create_old_ledger,
                                                        write_old_rows)

FLASK_MIGRATE_REVISION = "ae1027a6acf"


class Crash(Exception):
    """The upgrading process died right before this statement."""


@pytest.fixture
def old_ledger(empty_url) -> str:
    create_old_ledger(empty_url)
    write_old_rows(empty_url)
    return empty_url


def test_an_old_ledger_upgrades_in_place_keeping_every_row(old_ledger):
    said = []
    assert upgrade(old_ledger, report=said.append) == (OLD_REVISION, head_revision())
    assert said == ["moved the ledger of an older rqledger (revision 0001_initial) to the rqledger_ tables, "
                    "and its history from alembic_version to rqledger_alembic_version"]
    assert_moved_with_every_row(old_ledger)


def test_upgrading_the_moved_ledger_again_changes_nothing(old_ledger):
    upgrade(old_ledger)
    said = []
    assert upgrade(old_ledger, report=said.append) == (head_revision(), head_revision())
    assert said == []
    assert_moved_with_every_row(old_ledger)


def test_db_upgrade_moves_an_old_ledger_and_says_so(old_ledger, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no `rqledger dev` session here
    monkeypatch.delenv("RQLEDGER_DB_SCHEMA", raising=False)
    result = CliRunner().invoke(main, ["db", "upgrade", "--database-url", old_ledger])
    assert result.exit_code == 0, result.output
    assert "moved the ledger of an older rqledger (revision 0001_initial) to the rqledger_ tables" in result.output
    assert f"upgraded from 0001_initial to revision {head_revision()}" in result.output
    assert_moved_with_every_row(old_ledger)


def test_a_history_shared_with_the_app_loses_only_the_ledgers_row(empty_url):
    create_old_ledger(empty_url, history=(OLD_REVISION, FLASK_MIGRATE_REVISION))
    upgrade(empty_url)
    assert rows_of(empty_url, "SELECT version_num FROM alembic_version") == [(FLASK_MIGRATE_REVISION,)]
    assert rows_of(empty_url, f"SELECT version_num FROM {VERSION_TABLE}") == [(head_revision(),)]


@pytest.mark.parametrize("statements_before", range(9))
def test_a_move_cut_short_at_any_statement_finishes_when_run_again(old_ledger, statements_before):
    engine = create_ledger_engine(old_ledger)
    try:
        crash_before(engine, statements_before + 1)
        with pytest.raises(Exception, match="Crash|died"):
            upgrade(engine)
    finally:
        engine.dispose()
    assert upgrade(old_ledger) == (OLD_REVISION, head_revision())
    assert_moved_with_every_row(old_ledger)


def test_an_old_history_whose_tables_are_gone_is_refused_with_what_to_do(empty_url):
    engine = sa.create_engine(empty_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute(sa.text("INSERT INTO alembic_version VALUES (:r)"), {"r": OLD_REVISION})
    engine.dispose()
    with pytest.raises(LegacyLedgerConflict, match="its table tasks is missing: restore it, or delete the row"):
        upgrade(empty_url)
    assert rows_of(empty_url, "SELECT version_num FROM alembic_version") == [(OLD_REVISION,)]


# -- what a moved ledger looks like ----------------------------------------------------------------------------


def assert_moved_with_every_row(url: str) -> None:
    engine = create_ledger_engine(url)
    try:
        assert_schema_as_a_fresh_install_makes_it(engine)
        assert_old_rows_read_back(SqlAlchemyUnitOfWork(engine))
        assert_ids_go_on(SqlAlchemyUnitOfWork(engine))
    finally:
        engine.dispose()


def assert_schema_as_a_fresh_install_makes_it(engine) -> None:
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names()) == NEW_TABLES  # the old names and alembic_version are gone
    with engine.connect() as connection:
        assert connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all() == [(head_revision(),)]
        context = MigrationContext.configure(connection, opts={"compare_type": True, "version_table": VERSION_TABLE})
        assert compare_metadata(context, metadata) == []  # columns, indexes and unique constraints, by name
        if engine.dialect.name == "postgresql":  # indexes and sequences share the tables' namespace there
            names = connection.execute(sa.text(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace")).scalars()
            assert [name for name in names if not name.partition("_")[2].startswith("rqledger_")
                    and not name.startswith("rqledger_")] == []
            sequences = connection.execute(sa.text(
                "SELECT relname FROM pg_class WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace"
            )).scalars()
            assert set(sequences) == {"rqledger_tasks_id_seq", "rqledger_scheduled_tasks_id_seq",
                                      "rqledger_scheduled_task_runs_id_seq", "rqledger_alerts_id_seq",
                                      "rqledger_alert_deliveries_id_seq"}
    foreign_keys = {fk["name"] for table in ("rqledger_task_attempts", "rqledger_scheduled_task_runs")
                    for fk in inspector.get_foreign_keys(table)}
    assert foreign_keys == {"fk_rqledger_task_attempts_task_id", "fk_rqledger_scheduled_task_runs_schedule_id"}


def assert_old_rows_read_back(uow) -> None:
    with uow:
        task = uow.tasks.get(1)
        assert (task.name, task.status, task.args, task.kwargs, task.result, task.owner, task.attempts,
                task.version) == ("send_mail", TaskStatus.FINISHED, [1, "two"], {"to": "a@example.com"},
                                  {"sent": True}, "alice", 2, 5)
        assert task.created_at == T0.replace(tzinfo=timezone.utc)
        assert task.retry_policy.max == 2
        assert [(a.number, a.outcome.value, a.error) for a in task.history] == [(1, "failed", "boom"),
                                                                                (2, "finished", None)]
        assert [(t.id, t.status) for t in uow.tasks.list(TaskQuery()).items] == [(3, TaskStatus.QUEUED),
                                                                                  (1, TaskStatus.FINISHED)]
        schedule = uow.schedules.get(1)
        assert (schedule.name, schedule.timing.interval, schedule.runs_started, schedule.job_id,
                schedule.last_run.status.value) == ("report", 60, 2, "job-1", "finished")
        runs = uow.schedules.list_runs(1).items
        assert [(run.id, run.status.value, run.result) for run in runs] == [(2, "running", None),
                                                                             (1, "finished", {"rows": 3})]


def assert_ids_go_on(uow) -> None:
    """New rows take the next ids (PostgreSQL: from the renamed sequences); nothing is left behind."""
    with uow:
        assert [task.id for task in uow.tasks.add_many([a_task(), a_task()])] == [4, 5]
        assert uow.schedules.add_run(ScheduledTaskInstance(1, later(0), later(0))).id == 3
        uow.rollback()


def rows_of(url: str, query: str) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


def crash_before(engine, statement_number: int) -> None:
    """The process dies right before the engine's n-th statement that changes something."""
    changes = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split()[0].upper() in ("RENAME", "ALTER", "CREATE", "DROP", "INSERT", "DELETE"):
            changes.append(statement)
            if len(changes) == statement_number:
                raise Crash(f"died before: {statement}")

    sa.event.listen(engine, "before_cursor_execute", count)
