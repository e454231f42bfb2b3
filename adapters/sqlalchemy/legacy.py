"""A ledger migrated before the `rqledger_` prefix: its tables renamed and its history moved, in place.

Before issue 13 the ledger's tables were `tasks`, `task_attempts`, `scheduled_tasks` and
`scheduled_task_runs`, and Alembic kept its history in the shared `alembic_version`. Such a
database is known by its history alone: `alembic_version` holding one of OUR revision ids. A
table called `tasks` proves nothing (it may be the app's): without that history it is never
read, renamed or altered.

The move runs under the migration lock, before Alembic's own upgrade:

- PostgreSQL: renames (and, with a ledger schema, a move into it), in the upgrade's one
  transaction: all or nothing.
- SQLite: it cannot rename a constraint, so the prefixed tables are created by the very
  revision the database is at, the rows copied over and the old tables dropped, in the
  upgrade's one transaction.
- MariaDB/MySQL: every DDL statement commits on its own, so each step first looks at what is
  already done and does only the rest; the history moves last. An interrupted move thus still
  reads as legacy, and finishes when `rqledger db upgrade` runs again.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text

from rqledger.adapters.sqlalchemy.db_schema import schema_of
from rqledger.adapters.sqlalchemy.history import current_revision
from rqledger.application.errors import AdapterError

LEGACY_VERSION_TABLE = "alembic_version"
# The revisions the old version could have recorded there; a row holding one of them is the ledger's history.
LEGACY_REVISIONS = frozenset({"0001_initial"})


class LegacyLedgerConflict(AdapterError):
    """The old history says this database holds a ledger, but its tables are not as the old version left them."""


@dataclass(frozen=True)
class OldTable:
    """A table as the old revision 0001 created it (frozen: this is history, whatever tables.py says now)."""

    name: str
    indexes: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    foreign_key: tuple[str, str, str] | None = None  # (its name, the column, the parent's old name)
    serial_id: bool = True

    @property
    def new(self) -> str:
        return f"rqledger_{self.name}"


# parents before their children
OLD_TABLES = (
    OldTable("tasks", indexes=("ix_tasks_status_id", "ix_tasks_name_id", "ix_tasks_owner_id", "ix_tasks_created_at",
                               "ix_tasks_ended_at")),
    OldTable("task_attempts", foreign_key=("fk_task_attempts_task_id_tasks", "task_id", "tasks"), serial_id=False),
    OldTable("scheduled_tasks", indexes=("ix_scheduled_tasks_status_id", "ix_scheduled_tasks_name_id"),
             unique=("uq_scheduled_tasks_key_hash",)),
    OldTable("scheduled_task_runs", indexes=("ix_scheduled_task_runs_schedule_id_id",),
             unique=("uq_scheduled_task_runs_schedule_id_scheduled_at",),
             foreign_key=("fk_scheduled_task_runs_schedule_id_scheduled_tasks", "schedule_id", "scheduled_tasks")),
)


def prefixed(name: str) -> str:
    """An old index's or constraint's new name: `ix_tasks_status_id` -> `ix_rqledger_tasks_status_id`."""
    kind, _, rest = name.partition("_")
    return f"{kind}_rqledger_{rest}"


def legacy_revision(connection: Connection) -> str | None:
    """Our revision in the shared `alembic_version` (in the connection's default schema), or None."""
    if not inspect(connection).has_table(LEGACY_VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {LEGACY_VERSION_TABLE}")).scalars().all()
    return next((row for row in rows if row in LEGACY_REVISIONS), None)


def move_legacy_ledger(connection: Connection, config: Config) -> str | None:
    """Moves a legacy ledger to the prefixed names (into the ledger's schema, if any) and its history along.

    `config` is the Alembic config of the upgrade (its connection is `connection`). Returns the
    revision moved, or None when the database holds no legacy ledger (then nothing was touched).
    """
    revision = legacy_revision(connection)
    if revision is None:
        return None
    schema = schema_of(connection)
    _check_tables(connection, revision, schema)
    if connection.dialect.name == "sqlite":
        command.upgrade(config, revision)  # the prefixed tables as that revision creates them, empty
        _copy_rows(connection)
    else:
        if connection.dialect.name == "postgresql":
            _rename_on_postgresql(connection, schema)
        else:
            _rename_on_mysql(connection)
        if current_revision(connection) is None:  # else a move interrupted after this step wrote it
            command.stamp(config, revision)
    _forget_history(connection, revision)
    return revision


def _check_tables(connection: Connection, revision: str, schema: str | None) -> None:
    inspector = inspect(connection)
    for table in OLD_TABLES:
        old, new = inspector.has_table(table.name), inspector.has_table(table.new, schema=schema)
        if old and new:
            raise LegacyLedgerConflict(
                f"{LEGACY_VERSION_TABLE} says this database holds an older rqledger's ledger (revision {revision}), "
                f"but both {table.name} and {table.new} exist: keep the one with the ledger's rows, drop the other, "
                f"then run `rqledger db upgrade` again")
        if not old and not new:
            raise LegacyLedgerConflict(
                f"{LEGACY_VERSION_TABLE} says this database holds an older rqledger's ledger (revision {revision}), "
                f"but its table {table.name} is missing: restore it, or delete the row {revision!r} from "
                f"{LEGACY_VERSION_TABLE} to start a new ledger")


def _rename_on_postgresql(connection: Connection, schema: str | None) -> None:
    """Indexes, constraints and sequences share one namespace per schema there: each is renamed too."""
    quote = connection.dialect.identifier_preparer.quote
    default = connection.dialect.default_schema_name
    where = quote(schema or default)
    for table in OLD_TABLES:
        if schema and schema != default:  # its indexes, constraints and owned sequence move with it
            _run(connection, f"ALTER TABLE {quote(default)}.{quote(table.name)} SET SCHEMA {where}")
        _run(connection, f"ALTER TABLE {where}.{quote(table.name)} RENAME TO {quote(table.new)}")
        constraints = [f"pk_{table.name}", *table.unique, *([table.foreign_key[0]] if table.foreign_key else [])]
        for old in constraints:
            new = _new_foreign_key(table) if table.foreign_key and old == table.foreign_key[0] else prefixed(old)
            _run(connection, f"ALTER TABLE {where}.{quote(table.new)} RENAME CONSTRAINT {quote(old)} TO {quote(new)}")
        for old in table.indexes:
            _run(connection, f"ALTER INDEX {where}.{quote(old)} RENAME TO {quote(prefixed(old))}")
        if table.serial_id:
            sequence = connection.execute(text("SELECT pg_get_serial_sequence(:table, 'id')"),
                                          {"table": f"{where}.{quote(table.new)}"}).scalar_one()
            _run(connection, f"ALTER SEQUENCE {sequence} RENAME TO {quote(f'{table.new}_id_seq')}")


def _rename_on_mysql(connection: Connection) -> None:
    """Only what is still to do: each statement commits on its own there. The primary keys are all `PRIMARY`."""
    quote = connection.dialect.identifier_preparer.quote
    remaining = [table for table in OLD_TABLES if inspect(connection).has_table(table.name)]
    if remaining:  # one statement, atomic: children keep pointing at their renamed parents
        _run(connection, "RENAME TABLE " + ", ".join(f"{quote(t.name)} TO {quote(t.new)}" for t in remaining))
    for table in OLD_TABLES:
        inspector = inspect(connection)  # a fresh one: an inspector keeps what it read before a change
        present = {index["name"] for index in inspector.get_indexes(table.new)}
        renames = [f"RENAME INDEX {quote(old)} TO {quote(prefixed(old))}"
                   for old in (*table.indexes, *table.unique) if old in present]
        if renames:
            _run(connection, f"ALTER TABLE {quote(table.new)} {', '.join(renames)}")
        if table.foreign_key and table.foreign_key[0] in {fk["name"] for fk in inspector.get_foreign_keys(table.new)}:
            _rename_mysql_foreign_key(connection, table)


def _rename_mysql_foreign_key(connection: Connection, table: OldTable) -> None:
    """No RENAME for a foreign key: dropped and added in one statement. Its rows already satisfy it, so the
    check is off, which also lets it run in place instead of copying the table."""
    quote = connection.dialect.identifier_preparer.quote
    old, column, parent = table.foreign_key
    _run(connection, "SET foreign_key_checks = 0")
    try:
        _run(connection, f"ALTER TABLE {quote(table.new)} DROP FOREIGN KEY {quote(old)}, "
                         f"ADD CONSTRAINT {quote(_new_foreign_key(table))} FOREIGN KEY ({quote(column)}) "
                         f"REFERENCES {quote(f'rqledger_{parent}')} (id) ON DELETE CASCADE, ALGORITHM=INPLACE")
    finally:
        _run(connection, "SET foreign_key_checks = 1")


def _new_foreign_key(table: OldTable) -> str:
    return f"fk_{table.new}_{table.foreign_key[1]}"


def _copy_rows(connection: Connection) -> None:
    """SQLite: every row, ids included, into the new tables (parents first); then the old ones go (children first)."""
    quote = connection.dialect.identifier_preparer.quote
    inspector = inspect(connection)
    for table in OLD_TABLES:
        columns = ", ".join(quote(column["name"]) for column in inspector.get_columns(table.name))
        _run(connection, f"INSERT INTO {quote(table.new)} ({columns}) SELECT {columns} FROM {quote(table.name)}")
    for table in reversed(OLD_TABLES):
        _run(connection, f"DROP TABLE {quote(table.name)}")


def _forget_history(connection: Connection, revision: str) -> None:
    """Our row leaves `alembic_version`; the table goes too when nothing else was in it (one statement)."""
    rows = connection.execute(text(f"SELECT version_num FROM {LEGACY_VERSION_TABLE}")).scalars().all()
    if set(rows) == {revision}:
        _run(connection, f"DROP TABLE {LEGACY_VERSION_TABLE}")
    else:
        connection.execute(text(f"DELETE FROM {LEGACY_VERSION_TABLE} WHERE version_num = :revision"),
                           {"revision": revision})


def _run(connection: Connection, statement: str) -> None:
    connection.exec_driver_sql(statement)
