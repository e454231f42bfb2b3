"""Applying the ledger's migrations (shipped inside this package) to a database, from any directory."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from adapters.sqlalchemy.engine import create_ledger_engine
from adapters.sqlalchemy.errors import storage_errors

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_NAME = "rqledger_migrate"
_LOCK_KEY = 0x72716C6564676572 & 0x7FFFFFFFFFFFFFFF  # "rqledger", for PostgreSQL's advisory lock


def alembic_config(connection: Connection | None = None) -> Config:
    """A programmatic Alembic config: no alembic.ini is needed at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(database: str | Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Brings the schema of `database` (a URL, or an engine) up to `revision`; returns (before, after) revisions.

    Safe to run from several processes at once: they take turns on a lock, and
    the ones after the first find nothing left to do. An engine given is left
    open (so an in-memory SQLite database survives the upgrade).
    """
    engine = database if isinstance(database, Engine) else create_ledger_engine(database)
    try:
        with storage_errors(), engine.connect() as connection:
            with _migration_lock(connection):
                before = current_revision(connection)
                command.upgrade(alembic_config(connection), revision)
                after = current_revision(connection)
            return before, after
    finally:
        if engine is not database:
            engine.dispose()


@contextmanager
def _migration_lock(connection: Connection):
    """One migrating process at a time; the whole upgrade is one transaction where the database allows it."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        yield
        connection.commit()  # also releases the lock
    elif dialect in ("mysql", "mariadb"):  # DDL commits on its own there; a named lock keeps the turns
        connection.execute(text("SELECT GET_LOCK(:name, 300)"), {"name": _LOCK_NAME})
        try:
            yield
            connection.commit()
        finally:
            connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _LOCK_NAME})
            connection.commit()
    elif dialect == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock before alembic reads its version
        yield
        connection.commit()
    else:
        yield
        connection.commit()
