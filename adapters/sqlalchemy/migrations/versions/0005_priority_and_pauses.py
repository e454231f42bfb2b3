"""Priorities and paused queues: rqledger_tasks.priority and the table rqledger_queue_pauses.

Revision ID: 0005_priority_and_pauses
Revises: 0004_schedule_catch_up
Create Date: 2026-12-05

`priority` (high, normal or low) says which of its queue's three RQ queues a task's job waits in; every row
written before this revision takes `normal` (the server default), the queue its job is already in.

`rqledger_queue_pauses` holds one row per paused queue (its name is the key): workers take no task of a
queue while its row exists, and the row is what makes a pause outlive worker and Redis restarts.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0005_priority_and_pauses"
down_revision = "0004_schedule_catch_up"
branch_labels = None
depends_on = None

# spelled out as in 0001_initial: naive UTC times with microseconds
UTC_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB"}


def _schema() -> str | None:
    """The ledger's schema (RQLEDGER_DB_SCHEMA): ALTER TABLE is not reached by the connection's schema_translate_map."""
    return (op.get_bind().get_execution_options().get("schema_translate_map") or {}).get(None)


def upgrade() -> None:
    schema = _schema()
    op.add_column("rqledger_tasks", sa.Column("priority", sa.String(8), server_default="normal", nullable=False),
                  schema=schema)
    op.create_table(
        "rqledger_queue_pauses",
        sa.Column("queue", sa.String(100), nullable=False),
        sa.Column("paused_at", UTC_TIME, nullable=False),
        sa.Column("paused_by", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("queue", name="pk_rqledger_queue_pauses"),
        **MYSQL_TABLE,
    )


def downgrade() -> None:
    """The pauses and the priorities are lost: every queue runs again, every waiting task at `normal` (a job
    waiting in a high or low RQ queue is re-enqueued by the reconciler once an older worker misses it)."""
    schema = _schema()
    op.drop_table("rqledger_queue_pauses")
    op.drop_column("rqledger_tasks", "priority", schema=schema)
