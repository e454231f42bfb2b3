"""Reading the ledger's tables for the fault tests' audits: statuses, attempts, and what the logs say."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

ACTIVE = ("queued", "running")
TERMINAL = ("finished", "failed", "canceled")

# "[2025-01-01T00:00:00+00:00] attempt 2 finished" / "... attempt 2 failed: ..." (Task.finish/fail/record_failure)
_ENDED = re.compile(r"^\[[^\]]+\] attempt (\d+) (finished|failed)\b", re.MULTILINE)
_REFUSED = re.compile(r"^\[[^\]]+\] refused a late (\w+) from attempt (\d+)", re.MULTILINE)


@dataclass
class Row:
    id: int
    name: str
    status: str
    attempts: int
    log: str
    args: list
    outcomes: dict[int, list[str]] = field(default_factory=dict)  # attempt number -> outcomes in its history

    def ends_per_attempt(self) -> Counter:
        """How many times the log says each attempt ended (finished or failed)."""
        return Counter(int(number) for number, _ in _ENDED.findall(self.log))

    def refused_late_writes(self) -> list[tuple[str, int]]:
        return [(verb, int(number)) for verb, number in _REFUSED.findall(self.log)]

    def double_terminal(self) -> bool:
        """An attempt that ended twice, in the history or in the log (a late writer let through)."""
        return (any(len(outcomes) > 1 for outcomes in self.outcomes.values())
                or any(count > 1 for count in self.ends_per_attempt().values()))


class Ledger:
    """Plain SQL on the test's database: fast for thousands of rows, independent of the code under test."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(url, pool_pre_ping=True)

    def close(self) -> None:
        self.engine.dispose()

    def statuses(self, ids: list[int] | None = None) -> Counter:
        for tries_left in (2, 1, 0):
            try:
                with self.engine.connect() as conn:
                    rows = conn.execute(sa.text("SELECT id, status FROM rqledger_tasks")).all()
                break
            except sa.exc.OperationalError:
                # a fault test may cut this observer's connection too (ConnectionCutter): ask again
                if not tries_left:
                    raise
        wanted = set(ids) if ids is not None else None
        return Counter(status for task_id, status in rows if wanted is None or task_id in wanted)

    def status(self, task_id: int) -> str:
        with self.engine.connect() as conn:
            return conn.execute(sa.text("SELECT status FROM rqledger_tasks WHERE id = :id"), {"id": task_id}).scalar_one()

    def rows(self, ids: list[int] | None = None) -> dict[int, Row]:
        import json

        with self.engine.connect() as conn:
            tasks = conn.execute(sa.text("SELECT id, name, status, attempts, log, args FROM rqledger_tasks")).all()
            attempts = conn.execute(sa.text("SELECT task_id, number, outcome FROM rqledger_task_attempts")).all()
        wanted = set(ids) if ids is not None else None
        rows = {t.id: Row(t.id, t.name, t.status, t.attempts, t.log or "",
                          json.loads(t.args) if isinstance(t.args, str) else t.args)
                for t in tasks if wanted is None or t.id in wanted}
        for task_id, number, outcome in attempts:
            if task_id in rows and outcome is not None:
                rows[task_id].outcomes.setdefault(number, []).append(outcome)
        return rows

    def unended(self, ids: list[int], show: int = 5) -> str:
        """The statuses, and the logs of the first `show` rows still queued or running: what a stuck task did."""
        stuck = [row for row in self.rows(ids).values() if row.status in ACTIVE][:show]
        return f"{self.statuses(ids)}\n" + "\n".join(f"task {row.id} {row.status}, attempts {row.attempts}:\n{row.log}"
                                                    for row in stuck)

    def all_ended(self, ids: list[int]) -> bool:
        counts = self.statuses(ids)
        return sum(counts[s] for s in TERMINAL) == len(ids)
