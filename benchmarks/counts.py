"""4. Requests per task: SQL statements (and transactions, connections) and Redis commands (and round trips).

Redis commands are counted by the server (INFO commandstats) on a redis-server
started for this alone, so nobody else's commands are in the count. A worker's
numbers are per job beyond its fixed cost: (run with N jobs - run on an empty
queue) / N. SQL is counted with SQLAlchemy events in this process; in a forking
worker, by benchmarks.horse_probe inside each work-horse.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.burst import job_span, run_burst_worker
from benchmarks.counting import CommandStats, SqlCounts, round_trips, sql_counter
from benchmarks.report import Row
from benchmarks.services import counting_redis
from benchmarks.subjects import Pair, process_env

SECTION = "requests"


@dataclass
class Traffic:
    commands: Counter = field(default_factory=Counter)
    round_trips: int = 0
    sql: SqlCounts = field(default_factory=SqlCounts)

    def per(self, count: int, fixed: "Traffic | None" = None) -> dict[str, float]:
        """Per-task figures, beyond `fixed` (what the same thing cost with nothing to do)."""
        fixed = fixed or Traffic()

        def each(value, base):
            return (value - base) / count

        return {
            "commands": each(sum(self.commands.values()), sum(fixed.commands.values())),
            "round_trips": each(self.round_trips, fixed.round_trips),
            "statements": each(self.sql.statements, fixed.sql.statements),
            "commits": each(self.sql.commits, fixed.sql.commits),
            "connects": each(self.sql.connects, fixed.sql.connects),
        }


def measure(database_url: str, tasks: int, logs: Path, forking: bool = True) -> tuple[list[Row], dict]:
    """The rows, and the per-command breakdown of each measured path (for FINDINGS-style reading)."""
    with counting_redis() as url:
        pair = Pair(url, database_url)
        stats = CommandStats(url)
        try:
            return _measure(pair, stats, tasks, logs, forking)
        finally:
            stats.close()
            pair.close()


def _measure(pair: Pair, stats: CommandStats, tasks: int, logs: Path, forking: bool) -> tuple[list[Row], dict]:
    ledger, bare = pair.ledger, pair.bare
    # first calls pay for imports and compiled statements: not what is counted
    ledger.enqueue_one_by_one(1)
    ledger.enqueue_batch(2)
    bare.enqueue_batch(2)
    pair.flush()
    rows, breakdown = [], {}

    def compare(label: str, ledger_traffic: Traffic, bare_traffic: Traffic, count: int,
                ledger_fixed: Traffic | None = None, bare_fixed: Traffic | None = None, sql: tuple = ()):
        mine, theirs = ledger_traffic.per(count, ledger_fixed), bare_traffic.per(count, bare_fixed)
        breakdown[label] = {"rqledger": dict(ledger_traffic.commands), "bare RQ": dict(bare_traffic.commands)}
        rows.append(_row(f"{label}: Redis commands", mine["commands"], theirs["commands"]))
        if ledger_traffic.round_trips or bare_traffic.round_trips:
            rows.append(_row(f"{label}: Redis round trips", mine["round_trips"], theirs["round_trips"]))
        for name in sql:
            rows.append(_row(f"{label}: {SQL_NAMES[name]}", mine[name], 0.0))

    for label, ledger_enqueue, bare_enqueue in (
            ("enqueue one by one", ledger.enqueue_one_by_one, bare.enqueue_one_by_one),
            ("enqueue as a batch", ledger.enqueue_batch, bare.enqueue_batch)):
        mine = _traffic(stats, lambda: ledger_enqueue(tasks), ledger.engine)
        pair.flush()
        theirs = _traffic(stats, lambda: bare_enqueue(tasks))
        pair.flush()
        compare(label, mine, theirs, tasks, sql=("statements", "commits"))

    fixed = {side.label: _traffic(stats, lambda: side.simple_worker().work(burst=True, logging_level="WARNING"),
                                  getattr(side, "engine", None)) for side in (ledger, bare)}
    full = {}
    for side in (ledger, bare):
        ids = side.enqueue_batch(tasks)
        full[side.label] = _traffic(stats, lambda: side.simple_worker().work(burst=True, logging_level="WARNING"),
                                    getattr(side, "engine", None))
        job_span(bare.connection, ids)
        pair.flush()
    compare("run, SimpleWorker", full["rqledger"], full["bare RQ"], tasks, fixed["rqledger"], fixed["bare RQ"],
            sql=("statements", "commits", "connects"))

    if forking:
        horse_sql = logs / "horse-sql.jsonl"
        commands = {
            "rqledger": ([sys.executable, "-m", "benchmarks.profile_worker", "--serve"],
                         process_env({**ledger.env, "RQLEDGER_PROBE_OUT": str(horse_sql)})),
            "bare RQ": (bare.worker_command(), bare.worker_env()),
        }
        fixed, full = {}, {}
        for side in (ledger, bare):
            command, env = commands[side.label]
            log = logs / "counting-worker.log"
            fixed[side.label] = _traffic(stats, lambda: run_burst_worker(command, env, log, 120))
            if side is ledger:
                horse_sql.unlink(missing_ok=True)  # only the run with jobs counts
            ids = side.enqueue_batch(tasks)
            full[side.label] = _traffic(stats, lambda: run_burst_worker(command, env, log, 60 + tasks))
            job_span(bare.connection, ids)
            pair.flush()
        compare("run, forking worker", full["rqledger"], full["bare RQ"], tasks, fixed["rqledger"], fixed["bare RQ"])
        horses = [json.loads(line) for line in horse_sql.read_text().splitlines()]
        horses = [h for h in horses if h["side"] == "horse"]
        for key, name in (("sql_statements", "statements"), ("sql_commits", "commits"), ("db_connects", "connects")):
            value = statistics.median(h[key] for h in horses)
            rows.append(_row(f"run, forking worker: {SQL_NAMES[name]}", value, 0.0,
                             note="median of the work-horses"))
    return rows, breakdown


SQL_NAMES = {"statements": "SQL statements", "commits": "SQL transactions (commits)",
             "connects": "new database connections"}


def _traffic(stats: CommandStats, action, engine=None) -> Traffic:
    traffic = Traffic()
    with stats.delta() as commands:
        with round_trips() as trips:
            if engine is None:
                action()
            else:
                with sql_counter(engine) as sql:
                    action()
                traffic.sql = sql
    traffic.commands = commands
    traffic.round_trips = trips.sends
    return traffic


def _row(metric: str, ledger: float, bare: float, note: str = "") -> Row:
    return Row(SECTION, metric, "per task", ledger, bare, ledger / bare if bare else None, note)
