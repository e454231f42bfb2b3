"""Missed runs: each schedule gets a catch-up policy (`catch_up`) and a log of its own.

Revision ID: 0004_schedule_catch_up
Revises: 0003_schedule_owner
Create Date: 2026-12-10

`catch_up` (skip, latest or all) says what the scheduler does with firings it finds missed (every scheduler
was down): they are recorded as runs with status `missed` in any case. Every row written before this revision
takes `latest` (the server default), the policy of a schedule registered without one. `log` (NULL: nothing
noted) holds a line per catch-up whose missed firings were too many to record each as a run.

The new run status `missed` needs no change: statuses are plain VARCHAR(16) on every database (no enum type,
no CHECK constraint), so `missed` fits the column as it is.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004_schedule_catch_up"
down_revision = "0003_schedule_owner"
branch_labels = None
depends_on = None

LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def _schema() -> str | None:
    """The ledger's schema (RQLEDGER_DB_SCHEMA): ALTER TABLE is not reached by the connection's schema_translate_map."""
    return (op.get_bind().get_execution_options().get("schema_translate_map") or {}).get(None)


def upgrade() -> None:
    schema = _schema()
    op.add_column("rqledger_scheduled_tasks",
                  sa.Column("catch_up", sa.String(16), server_default="latest", nullable=False), schema=schema)
    op.add_column("rqledger_scheduled_tasks", sa.Column("log", LONG_TEXT, nullable=True), schema=schema)


def downgrade() -> None:
    """The policies, the schedules' logs and the `missed` runs are lost (an older rqledger cannot read the
    status): the runs are deleted, and a parent whose last run was missed shows none."""
    schema = _schema()
    runs = sa.table("rqledger_scheduled_task_runs", sa.column("status"), schema=schema)
    parents = sa.table("rqledger_scheduled_tasks", sa.column("last_run_status"), sa.column("last_run_scheduled_at"),
                       sa.column("last_run_ended_at"), schema=schema)
    op.execute(runs.delete().where(runs.c.status == "missed"))
    op.execute(parents.update().where(parents.c.last_run_status == "missed").values(
        last_run_status=None, last_run_scheduled_at=None, last_run_ended_at=None))
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): batch mode's copy would drop the table and its runs
    op.drop_column("rqledger_scheduled_tasks", "log", schema=schema)
    op.drop_column("rqledger_scheduled_tasks", "catch_up", schema=schema)
