"""The overview's charts, from the ledger: tasks ended by outcome per minute over the last hour and per half hour
over the last day, and how long each task type ran (p50, p95) over the last day.

The buckets and percentiles are computed here, in Python, from one bounded read (TaskRepository.ended_since:
the tasks that ended in the last day, newest first, at most `limit` rows), rather than by a GROUP BY on a
bucket expression in SQL: the percentiles need the durations themselves (SQLite and MariaDB have no
PERCENTILE_CONT), one code buckets alike on every database, and the ended_at index serves the read, so its
cost is the window's rows, never the ledger's size. The price: past `limit` tasks in a day (50,000: ~35 a
minute all day long) the day's older buckets come up short, and `Charts.complete` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Sequence

from rqledger.application.ports import Clock, EndedTask, UnitOfWork
from rqledger.domain.task import TaskStatus

OUTCOMES = (TaskStatus.FINISHED, TaskStatus.FAILED, TaskStatus.CANCELED)
MINUTE = timedelta(minutes=1)
HALF_HOUR = timedelta(minutes=30)
DAY = timedelta(days=1)
READ_LIMIT = 50_000


@dataclass(frozen=True)
class Bucket:
    """Tasks that ended in [start, start + size), by outcome."""

    start: datetime
    finished: int = 0
    failed: int = 0
    canceled: int = 0

    @property
    def total(self) -> int:
        return self.finished + self.failed + self.canceled


@dataclass(frozen=True)
class Durations:
    """How long one task type's tasks ran (seconds, from their last start to their end)."""

    name: str
    count: int
    p50: float
    p95: float


@dataclass(frozen=True)
class Charts:
    now: datetime
    hour: list[Bucket] = field(default_factory=list)  # 60 one-minute buckets, the last one holding `now`
    day: list[Bucket] = field(default_factory=list)  # 48 half-hour buckets, the last one holding `now`
    durations: list[Durations] = field(default_factory=list)  # most runs first
    complete: bool = True  # False: the read stopped at its limit, the oldest buckets hold fewer than ended


def floor(moment: datetime, size: timedelta) -> datetime:
    """The start of the `size` bucket (aligned on the epoch, in UTC) that holds `moment`."""
    seconds = int(size.total_seconds())
    epoch = math.floor(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, timezone.utc)


def bucketed(rows: Sequence[EndedTask], last: datetime, size: timedelta, count: int) -> list[Bucket]:
    """`count` buckets of `size`, the last one starting at `last`; rows outside them are left out."""
    first = last - size * (count - 1)
    tallies = [dict.fromkeys(OUTCOMES, 0) for _ in range(count)]
    for row in rows:
        index = (row.ended_at - first) // size
        if 0 <= index < count and row.status in OUTCOMES:
            tallies[index][row.status] += 1
    return [Bucket(first + size * i, t[TaskStatus.FINISHED], t[TaskStatus.FAILED], t[TaskStatus.CANCELED])
            for i, t in enumerate(tallies)]


def percentile(ordered: Sequence[float], p: float) -> float:
    """The nearest-rank percentile of ascending values: the smallest value that `p` percent are at or below."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def durations(rows: Sequence[EndedTask], since: datetime) -> list[Durations]:
    """p50 and p95 per task name of the rows that ended at or after `since` and had started (a clock stepped
    back counts as zero); the names with most runs first, then by name."""
    seconds: dict[str, list[float]] = {}
    for row in rows:
        if row.started_at is not None and row.ended_at >= since:
            seconds.setdefault(row.name, []).append(max(0.0, (row.ended_at - row.started_at).total_seconds()))
    found = []
    for name, values in seconds.items():
        values.sort()
        found.append(Durations(name, len(values), percentile(values, 50), percentile(values, 95)))
    return sorted(found, key=lambda d: (-d.count, d.name))


def charts(rows: Sequence[EndedTask], now: datetime, complete: bool = True) -> Charts:
    """The charts of these rows (every task that ended in the day before `now`), as of `now`."""
    return Charts(now=now, hour=bucketed(rows, floor(now, MINUTE), MINUTE, 60),
                  day=bucketed(rows, floor(now, HALF_HOUR), HALF_HOUR, 48),
                  durations=durations(rows, now - DAY), complete=complete)


@dataclass
class ChartTasks:
    """The overview's charts for everyone's tasks, or for one owner's (`owner`)."""

    uow: UnitOfWork
    clock: Clock
    limit: int = READ_LIMIT

    def __call__(self, owner: str | None = None) -> Charts:
        now = self.clock.now()
        with self.uow:
            rows = self.uow.tasks.ended_since(now - DAY, self.limit, owner)
        return charts(rows, now, complete=len(rows) < self.limit)

    def nothing(self) -> Charts:
        """Empty charts as of now (for whoever may see no task)."""
        return charts([], self.clock.now())
