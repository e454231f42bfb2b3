"""Applying the ledger's migrations (shipped inside this package) to a database, from any directory.

The history is kept in `rqledger_alembic_version` (history.py), in the ledger's schema when it
has one (db_schema.py); a database migrated before the prefix is moved first (legacy.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy import exc as sa_exc

from rqledger.adapters.sqlalchemy.db_schema import check_schema, ledger_execution_options, schema_of
from rqledger.adapters.sqlalchemy.engine import create_ledger_engine
from rqledger.adapters.sqlalchemy.errors import first_line, storage_errors
from rqledger.adapters.sqlalchemy.history import current_revision
from rqledger.adapters.sqlalchemy.legacy import move_legacy_ledger
from rqledger.adapters.sqlalchemy.tables import VERSION_TABLE
from rqledger.application.errors import AdapterError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_NAME = "rqledger_migrate"
_LOCK_KEY = 0x72716C6564676572 & 0x7FFFFFFFFFFFFFFF  # "rqledger", for PostgreSQL's advisory lock
# "permission denied" as each database says it: PostgreSQL's SQLSTATE; MySQL's error numbers (access to the
# database, to a table, a privilege needed)
_PG_PERMISSION_DENIED = "42501"
_MYSQL_PERMISSION_DENIED = (1044, 1142, 1227)


class UnknownRevision(AdapterError):
    """A revision this rqledger does not know: the database's (a newer rqledger migrated it), or the one asked for."""


class SchemaChangeRefused(AdapterError):
    """The database did not let this user create or change the ledger's tables (or its schema)."""


def alembic_config(connection: Connection | None = None) -> Config:
    """A programmatic Alembic config: no alembic.ini is needed at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(database: str | Engine, revision: str = "head", schema: str | None = None,
            report: Callable[[str], None] | None = None) -> tuple[str | None, str | None]:
    """Brings the schema of `database` (a URL, or an engine) up to `revision`; returns (before, after) revisions.

    `schema` (PostgreSQL only) puts the ledger in that schema, created if missing; an engine made
    with create_ledger_engine(schema=...) brings its own. A database migrated before the
    `rqledger_` prefix is moved to it first (legacy.py), and `report` told so in one sentence.

    Safe to run from several processes at once: they take turns on a lock, and
    the ones after the first find nothing left to do. An engine given is left
    open (so an in-memory SQLite database survives the upgrade).
    """
    engine = database if isinstance(database, Engine) else create_ledger_engine(database, schema=schema)
    try:
        if engine is database and schema:
            check_schema(schema, engine.dialect.name)
            engine = engine.execution_options(**ledger_execution_options(schema))
        with storage_errors(), _refused_changes(), engine.connect() as connection:
            with _migration_lock(connection):
                _create_schema(connection)
                config = alembic_config(connection)
                moved = move_legacy_ledger(connection, config)
                if moved and report:
                    report(f"moved the ledger of an older rqledger (revision {moved}) to the rqledger_ tables, "
                           f"and its history from alembic_version to {VERSION_TABLE}")
                before = current_revision(connection)
                _refuse_unknown(before, config)
                try:
                    command.upgrade(config, revision)
                except CommandError as exc:  # e.g. --revision names none of ours
                    raise UnknownRevision(f"cannot upgrade to revision {revision!r}: {exc}") from None
                after = current_revision(connection)
            return before, after
    finally:
        if not isinstance(database, Engine):
            engine.dispose()


def _create_schema(connection: Connection) -> None:
    """The ledger's schema, when it has one and it is missing. Looked up first: PostgreSQL checks the right
    to create one even for IF NOT EXISTS, and a schema made beforehand by an administrator needs no such right."""
    schema = schema_of(connection)
    if schema and connection.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"),
                                     {"schema": schema}).first() is None:
        connection.exec_driver_sql(f"CREATE SCHEMA {connection.dialect.identifier_preparer.quote(schema)}")


def _refuse_unknown(current: str | None, config: Config) -> None:
    """Alembic would say "Can't locate revision": this says what it means and what to do."""
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    if current is not None and current not in known:
        raise UnknownRevision(f"the ledger in this database is at revision {current}, which this rqledger does not "
                              f"know (a newer rqledger migrated it): upgrade rqledger itself "
                              f"(pip install -U rqledger) to use this database")


@contextmanager
def _refused_changes():
    """A permission the database denied becomes SchemaChangeRefused, saying what to do; the rest passes on."""
    try:
        yield
    except sa_exc.DBAPIError as exc:
        if not _permission_denied(exc.orig):
            raise
        raise SchemaChangeRefused(f"the database refused ({first_line(exc.orig)}): run `rqledger db upgrade` as a "
                                  f"user that may create tables (and the ledger's schema, if one is set)") from exc


def _permission_denied(error) -> bool:
    if getattr(error, "sqlstate", None) == _PG_PERMISSION_DENIED:
        return True
    code = error.args[0] if getattr(error, "args", None) else None
    if type(error).__module__.startswith("pymysql") and code in _MYSQL_PERMISSION_DENIED:
        return True
    return "readonly database" in str(error)  # SQLite: a file this user may not write


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
