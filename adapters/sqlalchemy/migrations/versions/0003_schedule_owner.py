"""Schedules get an owner: rqledger_scheduled_tasks.owner and its (owner, id) index.

Revision ID: 0003_schedule_owner
Revises: 0002_unique_task_key
Create Date: 2026-12-08

A schedule is for someone, like a task: per-user listings filter on `owner` (hence the index, the
same as the tasks' (owner, id)), and the owner is part of a schedule's natural key, so two users
scheduling the same call get a schedule each. The column is added without a collation of its own,
as the tasks' owner was: on MariaDB it takes the table's utf8mb4_bin, so owners compare exactly.

Rows written before this revision keep owner NULL and their `key_hash`: the key of a schedule with
no owner is computed as before (adapters/sqlalchemy/conversion.schedule_key), so registering the
same call again without an owner still finds and revives it. No row is rewritten.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_schedule_owner"
down_revision = "0002_unique_task_key"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    """The ledger's schema (RQLEDGER_DB_SCHEMA): ALTER TABLE is not reached by the connection's schema_translate_map."""
    return (op.get_bind().get_execution_options().get("schema_translate_map") or {}).get(None)


def upgrade() -> None:
    schema = _schema()
    op.add_column("rqledger_scheduled_tasks", sa.Column("owner", sa.String(200), nullable=True), schema=schema)
    op.create_index("ix_rqledger_scheduled_tasks_owner_id", "rqledger_scheduled_tasks", ["owner", "id"],
                    schema=schema)


def downgrade() -> None:
    """The owners are lost. A schedule that had one keeps its key_hash (which holds the owner), so the older
    rqledger does not find it when the same call is registered again: it makes a schedule of its own."""
    schema = _schema()
    op.drop_index("ix_rqledger_scheduled_tasks_owner_id", table_name="rqledger_scheduled_tasks", schema=schema)
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): batch mode's copy would drop rqledger_scheduled_tasks,
    # and with it (ON DELETE CASCADE, foreign keys on) every run
    op.drop_column("rqledger_scheduled_tasks", "owner", schema=schema)
