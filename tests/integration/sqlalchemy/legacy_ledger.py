"""A ledger as the version before the `rqledger_` prefix left it, built honestly for the upgrade tests.

Its revision 0001 is frozen here as that version shipped it (the one in the package now creates
the prefixed tables), its history is a row in the shared `alembic_version`, and its rows are
written in plain SQL in the stored formats of that version (JSON text, naive UTC times).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects import mysql

OLD_REVISION = "0001_initial"
OLD_TABLES = {"tasks", "task_attempts", "scheduled_tasks", "scheduled_task_runs"}
NEW_TABLES = {f"rqledger_{name}" for name in OLD_TABLES} | {"rqledger_alembic_version", "rqledger_queue_pauses",
                                                                  "rqledger_alerts", "rqledger_alert_deliveries"}

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
UTC_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB"}
T0 = datetime(2026, 1, 2, 3, 4, 5, 678901)


def create_old_ledger(url: str, history: tuple[str, ...] = (OLD_REVISION,)) -> None:
    """The old schema, and `history` (our revision, and perhaps an app's) in `alembic_version`."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            with Operations.context(MigrationContext.configure(connection)):
                _old_revision_0001()
            connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                                       "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
            for revision in history:
                connection.execute(sa.text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})
    finally:
        engine.dispose()


def write_old_rows(url: str) -> None:
    """Tasks 1 and 3 (2 was deleted: the ids go on at 4), two attempts of task 1, schedule 1 with runs 1 and 2."""
    engine = sa.create_engine(url)
    task = ("INSERT INTO tasks (name, description, args, kwargs, status, progress, result, log, queue, timeout, "
            "retry_policy, owner, attempts, retry_base, created_at, enqueued_at, started_at, ended_at, worker, "
            "version) VALUES (:name, 'Sends a mail', '[1, \"two\"]', '{\"to\": \"a@example.com\"}', :status, "
            ":progress, :result, :log, 'default', 180, '{\"max\": 2, \"interval\": [5]}', 'alice', :attempts, "
            "0, :t, :t, :started, :ended, :worker, :version)")
    try:
        with engine.begin() as connection:
            for name, status in (("send_mail", "finished"), ("doomed", "failed"), ("resize", "queued")):
                ended = status != "queued"
                connection.execute(sa.text(task), {
                    "name": name, "status": status, "progress": 100 if ended else 0,
                    "result": '{"sent": true}' if ended else None, "log": "attempt 1 failed: boom" if ended else "",
                    "attempts": 2 if ended else 0, "t": T0, "started": T0 if ended else None,
                    "ended": T0 if ended else None, "worker": "w1" if ended else None, "version": 5 if ended else 1})
            connection.execute(sa.text("DELETE FROM tasks WHERE name = 'doomed'"))
            connection.execute(sa.text(
                "INSERT INTO task_attempts (task_id, number, worker, started_at, ended_at, outcome, error) "
                "VALUES (1, 1, 'w1', :t, :t, 'failed', 'boom'), (1, 2, 'w1', :t, :t, 'finished', NULL)"), {"t": T0})
            connection.execute(sa.text(
                "INSERT INTO scheduled_tasks (key_hash, name, description, args, kwargs, queue, status, at, "
                "interval_seconds, repeat_total, cron, timezone, runs_started, next_run_at, last_run_status, "
                "last_run_scheduled_at, last_run_ended_at, created_at, job_id, version) VALUES (:key, 'report', "
                "'', '[]', '{}', 'default', 'running', :t, 60, NULL, NULL, 'UTC', 2, :t, 'finished', :t, :t, :t, "
                "'job-1', 3)"), {"key": "a" * 64, "t": T0})
            connection.execute(sa.text(
                "INSERT INTO scheduled_task_runs (schedule_id, scheduled_at, started_at, ended_at, status, progress, "
                "result, log, worker) VALUES (1, :t, :t, :t, 'finished', 100, '{\"rows\": 3}', 'done', 'w1'), "
                "(1, :u, :u, NULL, 'running', 40, NULL, '', 'w2')"), {"t": T0, "u": T0.replace(minute=5)})
    finally:
        engine.dispose()


def _old_revision_0001() -> None:
    """upgrade() of revision 0001 as the old version shipped it, unchanged."""
    op.create_table(
        "tasks",
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
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        **MYSQL_TABLE,
    )
    op.create_index("ix_tasks_status_id", "tasks", ["status", "id"])
    op.create_index("ix_tasks_name_id", "tasks", ["name", "id"])
    op.create_index("ix_tasks_owner_id", "tasks", ["owner", "id"])
    op.create_index("ix_tasks_created_at", "tasks", ["created_at"])
    op.create_index("ix_tasks_ended_at", "tasks", ["ended_at"])

    op.create_table(
        "task_attempts",
        sa.Column("task_id", ID, nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("error", LONG_TEXT, nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_task_attempts_task_id_tasks", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", "number", name="pk_task_attempts"),
        **MYSQL_TABLE,
    )

    op.create_table(
        "scheduled_tasks",
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
        sa.PrimaryKeyConstraint("id", name="pk_scheduled_tasks"),
        sa.UniqueConstraint("key_hash", name="uq_scheduled_tasks_key_hash"),
        **MYSQL_TABLE,
    )
    op.create_index("ix_scheduled_tasks_status_id", "scheduled_tasks", ["status", "id"])
    op.create_index("ix_scheduled_tasks_name_id", "scheduled_tasks", ["name", "id"])

    op.create_table(
        "scheduled_task_runs",
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
        sa.ForeignKeyConstraint(["schedule_id"], ["scheduled_tasks.id"],
                                name="fk_scheduled_task_runs_schedule_id_scheduled_tasks", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_scheduled_task_runs"),
        sa.UniqueConstraint("schedule_id", "scheduled_at", name="uq_scheduled_task_runs_schedule_id_scheduled_at"),
        **MYSQL_TABLE,
    )
    op.create_index("ix_scheduled_task_runs_schedule_id_id", "scheduled_task_runs", ["schedule_id", "id"])
