"""A unique task type holds at the database: rqledger_tasks.unique_key and its unique index.

Revision ID: 0002_unique_task_key
Revises: 0001_initial
Create Date: 2026-12-05

`is_unique` says whether a task takes its type's key while it is queued or running; `unique_key`
holds that key then (NULL otherwise), and its unique index refuses a second holder on every
database (a unique index allows many NULLs on SQLite, PostgreSQL and MySQL/MariaDB alike), so two
concurrent enqueues of a unique type can no longer both pass the read before the insert.

Rows written before this revision are left as they are: `is_unique` false, `unique_key` NULL. A
migration cannot know which task types are unique (that is the task registry's, in the app's
code), so the tasks already queued or running at the upgrade hold no key: the read before the
insert still refuses a second one next to them, only not under a race, and a user retry of an
older task does not take the key either. Tasks enqueued after the upgrade hold it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_unique_task_key"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    """The ledger's schema (RQLEDGER_DB_SCHEMA): ALTER TABLE is not reached by the connection's schema_translate_map."""
    return (op.get_bind().get_execution_options().get("schema_translate_map") or {}).get(None)


def upgrade() -> None:
    schema = _schema()
    op.add_column("rqledger_tasks", sa.Column("is_unique", sa.Boolean(), server_default="0", nullable=False),
                  schema=schema)
    op.add_column("rqledger_tasks", sa.Column("unique_key", sa.String(64), nullable=True), schema=schema)
    op.create_index("ix_rqledger_tasks_unique_key", "rqledger_tasks", ["unique_key"], unique=True, schema=schema)


def downgrade() -> None:
    schema = _schema()
    op.drop_index("ix_rqledger_tasks_unique_key", table_name="rqledger_tasks", schema=schema)
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): batch mode's copy would drop rqledger_tasks, and with
    # it (ON DELETE CASCADE, foreign keys on) every attempt
    op.drop_column("rqledger_tasks", "unique_key", schema=schema)
    op.drop_column("rqledger_tasks", "is_unique", schema=schema)
