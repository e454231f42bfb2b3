"""Alembic's environment for the ledger; run through rqledger.adapters.sqlalchemy.migrate, which hands in the connection.

The history goes to the ledger's own version table (history.py), never the shared `alembic_version`
an app's Flask-Migrate keeps; with a ledger schema, the connection's schema_translate_map puts the
tables there and the version table goes there too.
"""

from alembic import context

from rqledger.adapters.sqlalchemy.history import history_options
from rqledger.adapters.sqlalchemy.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the ledger's migrations with `rqledger db upgrade` (rqledger.adapters.sqlalchemy.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
    **history_options(connection),
)
with context.begin_transaction():
    context.run_migrations()
