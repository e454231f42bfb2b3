"""Where the ledger's Alembic history lives: its own version table, in the ledger's schema when it has one."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from rqledger.adapters.sqlalchemy.db_schema import schema_of
from rqledger.adapters.sqlalchemy.tables import VERSION_TABLE


def history_options(connection: Connection) -> dict:
    """Alembic's options for the ledger's history on `connection` (whose execution options name the schema)."""
    return {"version_table": VERSION_TABLE, "version_table_schema": schema_of(connection)}


def current_revision(connection: Connection) -> str | None:
    """The ledger's revision on that database; None before its first upgrade."""
    return MigrationContext.configure(connection, opts=history_options(connection)).get_current_revision()
