"""The whole ledger schema: tasks and their attempts, scheduled tasks and their runs.

Revision ID: 0001_initial
Revises:
Create Date: 2026-01-01

Every name carries the prefix `rqledger_`. Before issue 13 (a shared database) this
revision created the same tables without it (`tasks`, ...) and Alembic kept the
history in the shared `alembic_version`. It was changed in place, rather than
followed by a revision that renames, because a fresh install into an app's
database must never create (or touch) a table called `tasks`: that may be the
app's. A database migrated by the old version is recognised by its history (our
revision in `alembic_version`), and legacy.py moves it to these names before
Alembic runs; after that, it is exactly what this revision creates.

The column types are spelled out here (not imported from types.py) so that this
revision keeps creating the same schema whatever later code does. JSON and long
text are TEXT (LONGTEXT on MySQL/MariaDB); times are naive UTC with microseconds.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
UTC_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    op.create_table(
        "rqledger_tasks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", LONG_TEXT, nullable=False),
        sa.Column("args", LONG_TEXT, nullable=False),
        sa.Column("kwargs", LONG_TEXT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("result", LONG_TEXT, nullable=True),
        sa.Column("log", LONG_TEXT, nullable=False),
        sa.Column("queue", sa.String(100), nullable=False),
        sa.Column("timeout", sa.Integer(), nullable=True),
        sa.Column("retry_policy", LONG_TEXT, nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_base", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=True),
        sa.Column("enqueued_at", UTC_TIME, nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rqledger_tasks"),
        **MYSQL_TABLE,
    )
    op.create_index("ix_rqledger_tasks_status_id", "rqledger_tasks", ["status", "id"])
    op.create_index("ix_rqledger_tasks_name_id", "rqledger_tasks", ["name", "id"])
    op.create_index("ix_rqledger_tasks_owner_id", "rqledger_tasks", ["owner", "id"])
    op.create_index("ix_rqledger_tasks_created_at", "rqledger_tasks", ["created_at"])
    op.create_index("ix_rqledger_tasks_ended_at", "rqledger_tasks", ["ended_at"])

    op.create_table(
        "rqledger_task_attempts",
        sa.Column("task_id", ID, nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("error", LONG_TEXT, nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["rqledger_tasks.id"], name="fk_rqledger_task_attempts_task_id",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", "number", name="pk_rqledger_task_attempts"),
        **MYSQL_TABLE,
    )

    op.create_table(
        "rqledger_scheduled_tasks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", LONG_TEXT, nullable=False),
        sa.Column("args", LONG_TEXT, nullable=False),
        sa.Column("kwargs", LONG_TEXT, nullable=False),
        sa.Column("queue", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", UTC_TIME, nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("repeat_total", sa.Integer(), nullable=True),
        sa.Column("cron", sa.String(200), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("runs_started", sa.Integer(), nullable=False),
        sa.Column("next_run_at", UTC_TIME, nullable=True),
        sa.Column("last_run_status", sa.String(16), nullable=True),
        sa.Column("last_run_scheduled_at", UTC_TIME, nullable=True),
        sa.Column("last_run_ended_at", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=True),
        sa.Column("job_id", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rqledger_scheduled_tasks"),
        sa.UniqueConstraint("key_hash", name="uq_rqledger_scheduled_tasks_key_hash"),
        **MYSQL_TABLE,
    )
    op.create_index("ix_rqledger_scheduled_tasks_status_id", "rqledger_scheduled_tasks", ["status", "id"])
    op.create_index("ix_rqledger_scheduled_tasks_name_id", "rqledger_scheduled_tasks", ["name", "id"])

    op.create_table(
        "rqledger_scheduled_task_runs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("schedule_id", ID, nullable=False),
        sa.Column("scheduled_at", UTC_TIME, nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("result", LONG_TEXT, nullable=True),
        sa.Column("log", LONG_TEXT, nullable=False),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(["schedule_id"], ["rqledger_scheduled_tasks.id"],
                                name="fk_rqledger_scheduled_task_runs_schedule_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_rqledger_scheduled_task_runs"),
        sa.UniqueConstraint("schedule_id", "scheduled_at",
                            name="uq_rqledger_scheduled_task_runs_schedule_id_scheduled_at"),
        **MYSQL_TABLE,
    )
    op.create_index("ix_rqledger_scheduled_task_runs_schedule_id_id", "rqledger_scheduled_task_runs",
                    ["schedule_id", "id"])


def downgrade() -> None:
    op.drop_table("rqledger_scheduled_task_runs")
    op.drop_table("rqledger_scheduled_tasks")
    op.drop_table("rqledger_task_attempts")
    op.drop_table("rqledger_tasks")
