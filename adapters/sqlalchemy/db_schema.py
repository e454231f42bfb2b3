"""The ledger in a PostgreSQL schema of its own (RQLEDGER_DB_SCHEMA), reached through `schema_translate_map`.

The tables are declared without a schema (tables.py); a connection whose execution
options map the blank schema to the ledger's finds them there. That one option
serves the ledger's own engine, Alembic's migrations and a connection the ledger
did not make (an app's Connection or Session that writes the ledger's rows in
its own transaction), without a second set of Table objects.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, Engine

from rqledger.application.errors import AdapterError

# An unquoted PostgreSQL identifier (at most 63 bytes), so that `schema.table` typed by hand finds it too;
# pg_* names are PostgreSQL's own.
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class LedgerSchemaRefused(AdapterError):
    """The ledger's schema cannot be used: not on this database, or not a name PostgreSQL takes as given."""


def check_schema(schema: str | None, backend: str | None = None) -> str | None:
    """`schema` when it is usable on `backend` (a SQLAlchemy backend name; None: not known yet), else the error."""
    if not schema:
        return None
    if backend is not None and backend != "postgresql":
        raise LedgerSchemaRefused(f"RQLEDGER_DB_SCHEMA={schema} works on PostgreSQL only, not on {backend}: "
                                  f"unset it (the ledger's tables are prefixed rqledger_ instead)")
    if not _NAME.fullmatch(schema) or schema.startswith("pg_"):
        raise LedgerSchemaRefused(f"RQLEDGER_DB_SCHEMA={schema!r} is not a schema name rqledger takes: use lower-case "
                                  f"letters, digits and _ (not starting with a digit or pg_), at most 63 of them")
    return schema


def ledger_execution_options(schema: str | None) -> dict:
    """The execution options a connection needs to reach the ledger's tables: {} without a schema.

    For a connection the ledger did not make, e.g. an app's own Connection or Session writing
    ledger rows in its transaction: `connection.execute(statement, execution_options=...)`.
    """
    schema = check_schema(schema)
    return {"schema_translate_map": {None: schema}} if schema else {}


def schema_of(bind: Engine | Connection) -> str | None:
    """The ledger's schema an engine or connection was set up with (None: the database's default)."""
    return (bind.get_execution_options().get("schema_translate_map") or {}).get(None)
