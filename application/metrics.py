"""What GET /metrics reports, read from the ledger: tasks by name and status, attempt durations, runs.

The repositories count (GROUP BY on SQL): a scrape gets back a few rows per
task name, status and bucket, not every task, and only the database's own scan
grows with the ledger. The durations cover every ended attempt still in the
ledger (purge keeps that bounded), not a recent window: with a window the
buckets would shrink on most scrapes as attempts age out, and Prometheus'
rate() reads a shrinking bucket as a counter reset (a purge does that too,
but rarely).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rqledger.application.ports import Histogram, UnitOfWork

__all__ = ["DURATION_BUCKETS", "Histogram", "LedgerStatistics", "ReadLedgerStatistics"]

# seconds: from a quick task to an hour-long export
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


@dataclass
class LedgerStatistics:
    tasks: Counter = field(default_factory=Counter)  # (name, status) -> tasks
    durations: dict = field(default_factory=dict)  # (name, outcome) -> Histogram of attempt durations
    schedules: Counter = field(default_factory=Counter)  # (name, status) -> parents
    runs: Counter = field(default_factory=Counter)  # (schedule id, name, status) -> runs


@dataclass
class ReadLedgerStatistics:
    """Reads the ledger's counts and duration histograms in one short transaction (one consistent reading)."""

    uow: UnitOfWork
    bounds: tuple[float, ...] = DURATION_BUCKETS

    def __call__(self) -> LedgerStatistics:
        with self.uow:
            tasks = self.uow.tasks.count_by_name_and_status()
            durations = self.uow.tasks.attempt_durations(self.bounds)
            schedules = self.uow.schedules.count_by_name_and_status()
            runs = self.uow.schedules.count_runs_by_schedule_and_status()
        return LedgerStatistics(
            tasks=Counter({(name, status.value): n for (name, status), n in tasks.items()}),
            durations={(name, outcome.value): histogram for (name, outcome), histogram in durations.items()},
            schedules=Counter({(name, status.value): n for (name, status), n in schedules.items()}),
            runs=Counter({(schedule_id, name, status.value): n for (schedule_id, name, status), n in runs.items()}),
        )
