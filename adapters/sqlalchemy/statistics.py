"""The ledger's numbers for GET /metrics as GROUP BY queries: a few rows back, whatever the ledger's size.

An attempt's duration is computed in the database as whole microseconds
between two stored times (each database spells that differently), so the
bucket a duration falls in is decided exactly as Python decides it for
`(ended_at - started_at).total_seconds()`: no floating-point days in between.
Each attempt's duration is computed once (a materialized CTE on SQLite, which
would otherwise repeat it in every branch of the bucket's CASE).
"""

from __future__ import annotations

import sqlite3
from typing import Sequence

from sqlalchemy import BigInteger, Select, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from rqledger.adapters.sqlalchemy.tables import scheduled_task_runs as runs
from rqledger.adapters.sqlalchemy.tables import scheduled_tasks as schedules
from rqledger.adapters.sqlalchemy.tables import task_attempts, tasks

# `WITH ... AS MATERIALIZED` came with SQLite 3.35 (2021); an older library computes the durations more often
SQLITE_MATERIALIZES = sqlite3.sqlite_version_info >= (3, 35)


class MicrosecondsBetween(FunctionElement):
    """`end - start` in whole microseconds, for two naive UTC datetime columns."""

    type = BigInteger()
    name = "microseconds_between"
    inherit_cache = True


@compiles(MicrosecondsBetween, "postgresql")
def _postgresql(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    # EXTRACT(EPOCH ...) is numeric (exact) from PostgreSQL 14, double before: ROUND covers both
    return f"CAST(ROUND(EXTRACT(EPOCH FROM ({end} - {start})) * 1000000) AS BIGINT)"


@compiles(MicrosecondsBetween, "mysql")
@compiles(MicrosecondsBetween, "mariadb")
def _mysql(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"TIMESTAMPDIFF(MICROSECOND, {start}, {end})"


@compiles(MicrosecondsBetween, "sqlite")
def _sqlite(element, compiler, **kw):
    # SQLite keeps a datetime as text, 'YYYY-MM-DD HH:MM:SS.ffffff', and its date functions round a fraction
    # to milliseconds (.9996 s carries into the next second). So: whole seconds between the first 19
    # characters (julianday's error there is ~40 us, far below the rounding to whole seconds; strftime('%s')
    # would be exact too but costs five times as much), plus the difference of the digits after the dot
    # (padded, for a value written with fewer of them).
    start, end = (compiler.process(c, **kw) for c in element.clauses)

    def fraction(column: str) -> str:
        return f"CAST(substr({column} || '000000', 21, 6) AS INTEGER)"

    seconds = f"round((julianday(substr({end}, 1, 19)) - julianday(substr({start}, 1, 19))) * 86400)"
    return f"(CAST({seconds} AS INTEGER) * 1000000 + {fraction(end)} - {fraction(start)})"


class AtLeastZero(FunctionElement):
    """The larger of a number and zero (GREATEST is max() on SQLite); computes the number once, unlike a CASE."""

    type = BigInteger()
    name = "at_least_zero"
    inherit_cache = True


@compiles(AtLeastZero)
def _greatest(element, compiler, **kw):
    return f"GREATEST({compiler.process(element.clauses, **kw)}, 0)"


@compiles(AtLeastZero, "sqlite")
def _max(element, compiler, **kw):
    return f"max({compiler.process(element.clauses, **kw)}, 0)"


def tasks_by_name_and_status() -> Select:
    return select(tasks.c.name, tasks.c.status, func.count()).group_by(tasks.c.name, tasks.c.status)


def attempt_duration_buckets(bounds: Sequence[float]) -> Select:
    """(name, outcome, bucket index, attempts, total microseconds) of ended attempts; index len(bounds) is +Inf."""
    # typed BIGINT, so the bounds compared with it are too: past 2**31 microseconds (36 minutes)
    # an INTEGER bind parameter is out of range on PostgreSQL
    micros = AtLeastZero(MicrosecondsBetween(task_attempts.c.started_at, task_attempts.c.ended_at))
    ended = (
        select(tasks.c.name, task_attempts.c.outcome, micros.label("micros"))
        .join_from(task_attempts, tasks, task_attempts.c.task_id == tasks.c.id)
        .where(task_attempts.c.ended_at.is_not(None), task_attempts.c.outcome.is_not(None))
        .cte("ended")
    )
    # SQLite only: MariaDB has no such word; PostgreSQL would save ~7 ms per 5,000 tasks but need version 12
    if SQLITE_MATERIALIZES:
        ended = ended.prefix_with("MATERIALIZED", dialect="sqlite")
    limits = [round(bound * 1_000_000) for bound in bounds]
    bucket = case(*((ended.c.micros <= limit, index) for index, limit in enumerate(limits)),
                  else_=len(limits)).label("bucket")
    return (select(ended.c.name, ended.c.outcome, bucket, func.count(), func.sum(ended.c.micros))
            .group_by(ended.c.name, ended.c.outcome, bucket))


def schedules_by_name_and_status() -> Select:
    return (select(schedules.c.name, schedules.c.status, func.count())
            .group_by(schedules.c.name, schedules.c.status))


def runs_by_schedule_and_status() -> Select:
    return (
        select(runs.c.schedule_id, schedules.c.name, runs.c.status, func.count())
        .join_from(runs, schedules, runs.c.schedule_id == schedules.c.id)
        .group_by(runs.c.schedule_id, schedules.c.name, runs.c.status)
    )
