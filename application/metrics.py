"""What GET /metrics reports, read from the ledger: tasks by name and status, attempt durations, runs.

It pages through the ledger with the ports every storage has, so it works on
all of them; its cost grows with the ledger (purge keeps that in check). A
storage with GROUP BY could provide the same numbers in one query.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

from application.ports import ScheduleQuery, TaskQuery, UnitOfWork

# seconds: from a quick task to an hour-long export
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


@dataclass
class Histogram:
    """Observations counted per upper bound (not cumulative), plus their sum and count."""

    bounds: tuple[float, ...] = DURATION_BUCKETS
    counts: list[int] = field(default_factory=list)
    sum: float = 0.0
    count: int = 0

    def __post_init__(self):
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """(le, count of observations <= le) pairs, ending with +Inf: Prometheus' shape."""
        total, pairs = 0, []
        for bound, n in zip([*map(_le, self.bounds), "+Inf"], self.counts):
            total += n
            pairs.append((bound, total))
        return pairs


@dataclass
class LedgerStatistics:
    tasks: Counter = field(default_factory=Counter)  # (name, status) -> tasks
    durations: dict = field(default_factory=dict)  # (name, outcome) -> Histogram of attempt durations
    schedules: Counter = field(default_factory=Counter)  # (name, status) -> parents
    runs: Counter = field(default_factory=Counter)  # (schedule id, name, status) -> runs


@dataclass
class ReadLedgerStatistics:
    """Reads every task and run in pages of `page_size`, one short transaction per page."""

    uow: UnitOfWork
    page_size: int = 500

    def __call__(self) -> LedgerStatistics:
        stats = LedgerStatistics()
        self._tasks(stats)
        self._schedules(stats)
        return stats

    def _tasks(self, stats: LedgerStatistics) -> None:
        before = None
        while True:
            with self.uow:
                page = self.uow.tasks.list(TaskQuery(limit=self.page_size, before_id=before))
            for task in page.items:
                stats.tasks[(task.name, task.status.value)] += 1
                for attempt in task.history:
                    if attempt.ended_at is not None and attempt.outcome is not None:
                        key = (task.name, attempt.outcome.value)
                        seconds = max(0.0, (attempt.ended_at - attempt.started_at).total_seconds())
                        stats.durations.setdefault(key, Histogram()).observe(seconds)
            if page.next_cursor is None:
                return
            before = page.next_cursor

    def _schedules(self, stats: LedgerStatistics) -> None:
        before = None
        while True:
            with self.uow:
                page = self.uow.schedules.list(ScheduleQuery(limit=self.page_size, before_id=before))
            for schedule in page.items:
                stats.schedules[(schedule.name, schedule.status.value)] += 1
                self._runs(stats, schedule.id, schedule.name)
            if page.next_cursor is None:
                return
            before = page.next_cursor

    def _runs(self, stats: LedgerStatistics, schedule_id: int, name: str) -> None:
        before = None
        while True:
            with self.uow:
                page = self.uow.schedules.list_runs(schedule_id, limit=self.page_size, before_id=before)
            for run in page.items:
                stats.runs[(schedule_id, name, run.status.value)] += 1
            if page.next_cursor is None:
                return
            before = page.next_cursor


def _le(bound: float) -> str:
    return repr(float(bound))
