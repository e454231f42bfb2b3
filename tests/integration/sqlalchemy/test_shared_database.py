"""The ledger in an app's own database: beside the app's `tasks` table and Flask-Migrate's history, never touching
them; and, on PostgreSQL, in a schema of its own (RQLEDGER_DB_SCHEMA)."""

import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from rqledger.adapters.sqlalchemy import (LedgerSchemaRefused, SqlAlchemyUnitOfWork, create_ledger_engine,
                                          ledger_execution_options, upgrade)
from rqledger.adapters.sqlalchemy.migrate import head_revision
from rqledger.adapters.sqlalchemy.tables import tasks as ledger_tasks
from rqledger.application.ports import TaskQuery
from rqledger.domain.schedule import ScheduledTaskInstance
from rqledger.entrypoints.cli import main
from rqledger.entrypoints.container import Container
from rqledger.entrypoints.settings import load_settings
from tests.contract.builders import a_schedule, a_task, later
from tests.integration.sqlalchemy.legacy_ledger import NEW_TABLES, OLD_REVISION, create_old_ledger, write_old_rows

FLASK_MIGRATE_REVISION = "ae1027a6acf"

# The app's own: a `tasks` table (with an index named as the old ledger named its own) and Flask-Migrate's history.
app_metadata = sa.MetaData()
app_tasks = sa.Table(
    "tasks", app_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Index("ix_tasks_status_id", "status", "id"),
    sa.Index("ix_tasks_status", "status"),
)
sa.Table("alembic_version", app_metadata, sa.Column("version_num", sa.String(32), primary_key=True))


@pytest.fixture
def app_database(empty_url) -> str:
    engine = sa.create_engine(empty_url)
    try:
        app_metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(app_tasks.insert(), [{"title": "write the report", "status": "open"},
                                                    {"title": "ship it", "status": "done"}])
            connection.execute(sa.text("INSERT INTO alembic_version VALUES (:r)"), {"r": FLASK_MIGRATE_REVISION})
    finally:
        engine.dispose()
    return empty_url


def test_db_upgrade_beside_an_apps_tasks_and_history_leaves_them_exactly_as_they_were(app_database):
    before = app_snapshot(app_database)
    engine = create_ledger_engine(app_database)
    try:
        with statements_of(engine) as said:
            assert upgrade(engine) == (None, head_revision())
            assert upgrade(engine) == (head_revision(), head_revision())
        assert [s for s in said if re.search(r"\btasks\b", s)] == []  # never names the app's table
        assert set(sa.inspect(engine).get_table_names()) == NEW_TABLES | {"tasks", "alembic_version"}
        assert_the_ledger_works(SqlAlchemyUnitOfWork(engine))
    finally:
        engine.dispose()
    assert app_snapshot(app_database) == before


@pytest.mark.parametrize("kind", ["postgresql"], indirect=True)
def test_with_a_ledger_schema_the_tables_and_their_history_live_there(empty_url):
    assert upgrade(empty_url, schema="ledger") == (None, head_revision())
    engine = create_ledger_engine(empty_url, schema="ledger")
    try:
        inspector = sa.inspect(engine)
        assert set(inspector.get_table_names(schema="ledger")) == NEW_TABLES
        assert inspector.get_table_names() == []  # nothing in the default schema
        assert upgrade(engine) == (head_revision(), head_revision())
        assert_the_ledger_works(SqlAlchemyUnitOfWork(engine))
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["postgresql"], indirect=True)
def test_a_connection_not_made_by_the_ledger_reaches_its_schema_with_its_execution_options(empty_url):
    upgrade(empty_url, schema="ledger")
    ledger = create_ledger_engine(empty_url, schema="ledger")
    apps_own = sa.create_engine(empty_url)
    try:
        uow = SqlAlchemyUnitOfWork(ledger)
        with uow:
            task_id = uow.tasks.add(a_task("export")).id
            uow.commit()
        with apps_own.connect() as connection:
            names = connection.execute(sa.select(ledger_tasks.c.name).where(ledger_tasks.c.id == task_id),
                                       execution_options=ledger_execution_options("ledger")).scalars().all()
            assert names == ["export"]
            with pytest.raises(sa.exc.ProgrammingError, match='relation "rqledger_tasks" does not exist'):
                connection.execute(sa.select(ledger_tasks.c.name))
    finally:
        ledger.dispose()
        apps_own.dispose()


@pytest.mark.parametrize("kind", ["postgresql"], indirect=True)
def test_a_schema_made_beforehand_is_used_as_it_is(empty_url):
    engine = sa.create_engine(empty_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE SCHEMA ledger")
    engine.dispose()
    assert upgrade(empty_url, schema="ledger") == (None, head_revision())


@pytest.mark.parametrize("kind", ["postgresql"], indirect=True)
def test_an_old_ledger_moves_into_the_ledger_schema(empty_url):
    create_old_ledger(empty_url)
    write_old_rows(empty_url)
    assert upgrade(empty_url, schema="ledger") == (OLD_REVISION, head_revision())
    engine = create_ledger_engine(empty_url, schema="ledger")
    try:
        inspector = sa.inspect(engine)
        assert set(inspector.get_table_names(schema="ledger")) == NEW_TABLES
        assert inspector.get_table_names() == []  # the old tables and alembic_version are gone from public
        assert set(inspector.get_sequence_names(schema="ledger")) == {
            "rqledger_tasks_id_seq", "rqledger_scheduled_tasks_id_seq", "rqledger_scheduled_task_runs_id_seq",
            "rqledger_alerts_id_seq", "rqledger_alert_deliveries_id_seq"}
        uow = SqlAlchemyUnitOfWork(engine)
        with uow:
            assert uow.tasks.get(1).name == "send_mail"
            assert [task.id for task in uow.tasks.add_many([a_task(), a_task()])] == [4, 5]
            uow.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["postgresql"], indirect=True)
def test_the_container_and_db_upgrade_take_the_schema_from_rqledger_db_schema(empty_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no `rqledger dev` session here
    monkeypatch.setenv("RQLEDGER_DB_SCHEMA", "ledger")
    result = CliRunner().invoke(main, ["db", "upgrade", "--database-url", empty_url])
    assert result.exit_code == 0, result.output
    container = Container()
    container.config.from_dict(load_settings({"DATABASE_URL": empty_url, "RQLEDGER_DB_SCHEMA": "ledger"}))
    try:
        assert_the_ledger_works(container.uow())
        assert set(sa.inspect(container.database_engine()).get_table_names(schema="ledger")) == NEW_TABLES
    finally:
        container.database_engine().dispose()


@pytest.mark.parametrize("url", ["sqlite:///ledger.db", "mysql://root@127.0.0.1/test"])
def test_a_ledger_schema_is_refused_outside_postgresql(url):
    with pytest.raises(LedgerSchemaRefused, match="RQLEDGER_DB_SCHEMA=ledger works on PostgreSQL only"):
        create_ledger_engine(url, schema="ledger")


@pytest.mark.parametrize("name", ["Ledger", "pg_ledger", "led-ger", "1ledger", "x" * 64])
def test_a_schema_name_postgresql_would_read_otherwise_is_refused(name):
    with pytest.raises(LedgerSchemaRefused, match="is not a schema name rqledger takes"):
        create_ledger_engine("postgresql://nobody@127.0.0.1/nothing", schema=name)


def test_without_a_schema_a_foreign_connection_needs_no_execution_options():
    assert ledger_execution_options(None) == {}
    assert ledger_execution_options("ledger") == {"schema_translate_map": {None: "ledger"}}


# -- helpers ----------------------------------------------------------------------------------------------------


def assert_the_ledger_works(uow) -> None:
    with uow:
        first = uow.tasks.add(a_task("export"))
        more = uow.tasks.add_many([a_task("export"), a_task("resize")])  # PostgreSQL: ids from the sequence
        schedule = uow.schedules.add(a_schedule("report"))
        run = uow.schedules.add_run(ScheduledTaskInstance(schedule.id, later(0), later(0)))
        uow.commit()
    with uow:
        assert [task.id for task in uow.tasks.list(TaskQuery()).items] == [more[1].id, more[0].id, first.id]
        assert uow.tasks.count_by_name_and_status() == {("export", first.status): 2, ("resize", first.status): 1}
        assert uow.schedules.list_runs(schedule.id).items[0].id == run.id
        assert uow.tasks.attempt_durations([1.0]) == {}  # GET /metrics' queries run there too
        assert sum(uow.schedules.count_runs_by_schedule_and_status().values()) == 1


def app_snapshot(url: str) -> dict:
    """Everything about the app's table and history: rows, columns, indexes, and the database's own DDL of them."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        snapshot = {
            "rows": rows(engine, "SELECT id, title, status FROM tasks ORDER BY id"),
            "history": rows(engine, "SELECT version_num FROM alembic_version"),
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns("tasks")],
            "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes("tasks")),
            "primary key": inspector.get_pk_constraint("tasks"),
        }
        if engine.dialect.name == "sqlite":
            snapshot["ddl"] = rows(engine, "SELECT type, name, tbl_name, sql FROM sqlite_master "
                                           "WHERE tbl_name IN ('tasks', 'alembic_version') ORDER BY name")
        elif engine.dialect.name == "postgresql":
            snapshot["relations"] = rows(engine, "SELECT relname, relkind FROM pg_class WHERE relnamespace = "
                                                 "'public'::regnamespace AND relname NOT LIKE '%rqledger%' ORDER BY 1")
            snapshot["sequence"] = rows(engine, "SELECT last_value, is_called FROM tasks_id_seq")
        else:
            snapshot["ddl"] = [rows(engine, f"SHOW CREATE TABLE {table}") for table in ("tasks", "alembic_version")]
        return snapshot
    finally:
        engine.dispose()


def rows(engine, query: str) -> list:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(query))]


@contextmanager
def statements_of(engine):
    """Collects the statements (with their parameters) that the engine sends, as text."""
    seen: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        seen.append(f"{statement} {parameters!r}")

    sa.event.listen(engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", remember)
