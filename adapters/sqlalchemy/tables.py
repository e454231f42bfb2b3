"""The ledger's tables, as mapped row classes (the domain never sees them).

The repositories read and write these tables with Core statements and convert
rows to domain entities explicitly (see conversion.py); the mapped classes
exist for the relationships (ORM cascade) and for anyone who wants to query
the ledger with the ORM. Alembic's migrations must match `metadata` exactly.

Every table the ledger owns, its version table included, is named `rqledger_...`;
its constraints, indexes and PostgreSQL sequences carry that name. So the ledger
can live in an application's own database beside the app's `tasks` table (and
its `ix_tasks_status`) and its Flask-Migrate history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from rqledger.adapters.sqlalchemy.types import JsonDict, JsonList, LongText, UtcDateTime

# Ids are BIGINT, except on SQLite where only INTEGER PRIMARY KEY is the autoincrementing rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")

# utf8mb4 (four-byte UTF-8) and a binary collation: names and owners compare exactly, as elsewhere.
MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB"}

# Alembic's version table: never the shared default `alembic_version`, which Flask-Migrate keeps for the app
VERSION_TABLE = "rqledger_alembic_version"

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    # not the referred table's name too: with the prefix twice, a name would pass 63 characters (PostgreSQL's limit)
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TaskRow(Base):
    """A task. `unique_key` is set while a task of a unique type is queued or running (NULL otherwise): its
    unique index lets one active task per type and owner through, whoever races (every database allows
    many NULLs in a unique index). `is_unique` says whether the task takes the key when it is active."""

    __tablename__ = "rqledger_tasks"
    __table_args__ = (
        Index(None, "unique_key", unique=True),
        Index(None, "status", "id"),
        Index(None, "name", "id"),
        Index(None, "owner", "id"),
        Index(None, "created_at"),
        Index(None, "ended_at"),  # purge: ended tasks past a retention age
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(LongText, default="")
    args: Mapped[list] = mapped_column(JsonList)
    kwargs: Mapped[dict] = mapped_column(JsonDict)
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict | None] = mapped_column(JsonDict, nullable=True)
    log: Mapped[str] = mapped_column(LongText, default="")
    queue: Mapped[str] = mapped_column(String(100))
    timeout: Mapped[int | None] = mapped_column(Integer, nullable=True)
    retry_policy: Mapped[dict | None] = mapped_column(JsonDict, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # high, normal or low: which RQ queue of its queue's three the job waits in (migration 0005)
    priority: Mapped[str] = mapped_column(String(8), default="normal", server_default="normal")
    is_unique: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    unique_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_base: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    enqueued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)

    history: Mapped[list["AttemptRow"]] = relationship(
        back_populates="task", cascade="all, delete-orphan", passive_deletes=True, order_by="AttemptRow.number")


class AttemptRow(Base):
    """One attempt of a task; (task_id, number) is its key."""

    __tablename__ = "rqledger_task_attempts"
    __table_args__ = (MYSQL_TABLE,)

    task_id: Mapped[int] = mapped_column(Id, ForeignKey("rqledger_tasks.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    error: Mapped[str | None] = mapped_column(LongText, nullable=True)

    task: Mapped[TaskRow] = relationship(back_populates="history")


class ScheduleRow(Base):
    """A schedule's parent record. `key_hash` (sha256 of name+args+kwargs, and owner when it has one) makes the
    natural key unique; `owner` compares exactly, like the tasks' (the table's binary collation on MariaDB)."""

    __tablename__ = "rqledger_scheduled_tasks"
    __table_args__ = (
        UniqueConstraint("key_hash"),
        Index(None, "status", "id"),
        Index(None, "name", "id"),
        Index(None, "owner", "id"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(LongText, default="")
    args: Mapped[list] = mapped_column(JsonList)
    kwargs: Mapped[dict] = mapped_column(JsonDict)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    queue: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    interval_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    repeat_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cron: Mapped[str | None] = mapped_column(String(200), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    runs_started: Mapped[int] = mapped_column(Integer, default=0)
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_run_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_run_scheduled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_run_ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # what the scheduler does with firings missed while it was down: skip, latest or all (migration 0004)
    catch_up: Mapped[str] = mapped_column(String(16), default="latest", server_default="latest")
    log: Mapped[str | None] = mapped_column(LongText, nullable=True)  # NULL: nothing noted (rows before 0004)
    # alerts (migration 0006): a success expected at least every this many seconds (NULL: no dead-man
    # check), and how many failed runs in a row raise schedule.failing
    expect_every: Mapped[int | None] = mapped_column(Integer, nullable=True)
    alert_after_failures: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    version: Mapped[int] = mapped_column(Integer, default=0)

    runs: Mapped[list["RunRow"]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", passive_deletes=True)


class AlertRow(Base):
    """An alert (migration 0006). `open_key` is its key while open, NULL once resolved: one open alert per key."""

    __tablename__ = "rqledger_alerts"
    __table_args__ = (
        UniqueConstraint("open_key"),
        Index(None, "status", "id"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255))
    open_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(LongText)
    subject: Mapped[dict] = mapped_column(JsonDict)
    count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class DeliveryRow(Base):
    """One alert to one target (migration 0006); the (status, next_attempt_at) index finds the due ones."""

    __tablename__ = "rqledger_alert_deliveries"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "alert_id"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(Id, ForeignKey("rqledger_alerts.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class QueuePauseRow(Base):
    """A paused queue (migration 0005): while its row exists, no worker takes the queue's tasks."""

    __tablename__ = "rqledger_queue_pauses"
    __table_args__ = (MYSQL_TABLE,)

    queue: Mapped[str] = mapped_column(String(100), primary_key=True)
    paused_at: Mapped[datetime] = mapped_column(UtcDateTime)
    paused_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)


class RunRow(Base):
    """One run of a schedule; unique per parent and scheduled time, so a firing is recorded once."""

    __tablename__ = "rqledger_scheduled_task_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "scheduled_at"),
        Index(None, "schedule_id", "id"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(Id, ForeignKey("rqledger_scheduled_tasks.id", ondelete="CASCADE"))
    scheduled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # running, finished, failed, canceled, or missed (recorded afterwards, never run): plain text, no enum type
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict | None] = mapped_column(JsonDict, nullable=True)
    log: Mapped[str] = mapped_column(LongText, default="")
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)

    schedule: Mapped[ScheduleRow] = relationship(back_populates="runs")


metadata = Base.metadata
tasks = TaskRow.__table__
task_attempts = AttemptRow.__table__
scheduled_tasks = ScheduleRow.__table__
scheduled_task_runs = RunRow.__table__
queue_pauses = QueuePauseRow.__table__
alerts = AlertRow.__table__
alert_deliveries = DeliveryRow.__table__
