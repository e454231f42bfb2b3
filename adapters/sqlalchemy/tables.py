"""The ledger's tables, as mapped row classes (the domain never sees them).

The repositories read and write these tables with Core statements and convert
rows to domain entities explicitly (see conversion.py); the mapped classes
exist for the relationships (ORM cascade) and for anyone who wants to query
the ledger with the ORM. Alembic's migrations must match `metadata` exactly.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from adapters.sqlalchemy.types import JsonDict, JsonList, LongText, UtcDateTime

# Ids are BIGINT, except on SQLite where only INTEGER PRIMARY KEY is the autoincrementing rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")

# utf8mb4 (four-byte UTF-8) and a binary collation: names and owners compare exactly, as elsewhere.
MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB"}

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (
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

    __tablename__ = "task_attempts"
    __table_args__ = (MYSQL_TABLE,)

    task_id: Mapped[int] = mapped_column(Id, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    error: Mapped[str | None] = mapped_column(LongText, nullable=True)

    task: Mapped[TaskRow] = relationship(back_populates="history")


class ScheduleRow(Base):
    """A schedule's parent record. `key_hash` (sha256 of name+args+kwargs) makes the natural key unique."""

    __tablename__ = "scheduled_tasks"
    __table_args__ = (
        UniqueConstraint("key_hash"),
        Index(None, "status", "id"),
        Index(None, "name", "id"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(LongText, default="")
    args: Mapped[list] = mapped_column(JsonList)
    kwargs: Mapped[dict] = mapped_column(JsonDict)
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
    version: Mapped[int] = mapped_column(Integer, default=0)

    runs: Mapped[list["RunRow"]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", passive_deletes=True)


class RunRow(Base):
    """One run of a schedule; unique per parent and scheduled time, so a firing is recorded once."""

    __tablename__ = "scheduled_task_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "scheduled_at"),
        Index(None, "schedule_id", "id"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(Id, ForeignKey("scheduled_tasks.id", ondelete="CASCADE"))
    scheduled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
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
