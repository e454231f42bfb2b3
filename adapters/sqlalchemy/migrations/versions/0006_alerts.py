"""Alerts: rqledger_alerts, rqledger_alert_deliveries, and each schedule's dead-man and failing thresholds.

Revision ID: 0006_alerts
Revises: 0005_priority_and_pauses
Create Date: 2026-12-05

An alert row is open while its condition holds; `open_key` (its key while open, NULL once resolved) is unique, so
two schedulers evaluating at once open one alert, not two. A delivery row is one alert to one webhook target,
retried with backoff; a sender claims it with a compare-and-set on `version` before sending, so two schedulers
never both send it. Schedules written before this revision have no dead-man check (`expect_every` NULL) and raise
schedule.failing after 3 failed runs in a row (the server default).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0006_alerts"
down_revision = "0005_priority_and_pauses"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
UTC_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB"}


def _schema() -> str | None:
    """The ledger's schema (RQLEDGER_DB_SCHEMA): ALTER TABLE is not reached by the connection's schema_translate_map."""
    return (op.get_bind().get_execution_options().get("schema_translate_map") or {}).get(None)


def upgrade() -> None:
    schema = _schema()
    op.create_table(
        "rqledger_alerts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("open_key", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", LONG_TEXT, nullable=False),
        sa.Column("subject", LONG_TEXT, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=True),
        sa.Column("resolved_at", UTC_TIME, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rqledger_alerts"),
        sa.UniqueConstraint("open_key", name="uq_rqledger_alerts_open_key"),
        **MYSQL_TABLE,
    )
    op.create_index("ix_rqledger_alerts_status_id", "rqledger_alerts", ["status", "id"])
    op.create_table(
        "rqledger_alert_deliveries",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("alert_id", ID, nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=False),
        sa.Column("claimed_until", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("delivered_at", UTC_TIME, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["rqledger_alerts.id"], name="fk_rqledger_alert_deliveries_alert_id",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_rqledger_alert_deliveries"),
        **MYSQL_TABLE,
    )
    op.create_index("ix_rqledger_alert_deliveries_status_next_attempt_at", "rqledger_alert_deliveries",
                    ["status", "next_attempt_at"])
    op.create_index("ix_rqledger_alert_deliveries_alert_id", "rqledger_alert_deliveries", ["alert_id"])
    op.add_column("rqledger_scheduled_tasks", sa.Column("expect_every", sa.Integer(), nullable=True), schema=schema)
    op.add_column("rqledger_scheduled_tasks",
                  sa.Column("alert_after_failures", sa.Integer(), server_default="3", nullable=False), schema=schema)


def downgrade() -> None:
    """The alerts, their deliveries and the schedules' thresholds are lost."""
    schema = _schema()
    op.drop_column("rqledger_scheduled_tasks", "alert_after_failures", schema=schema)
    op.drop_column("rqledger_scheduled_tasks", "expect_every", schema=schema)
    op.drop_table("rqledger_alert_deliveries")
    op.drop_table("rqledger_alerts")
