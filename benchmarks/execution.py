"""2. Draining trivial tasks: forking burst workers as processes, and SimpleWorkers in this process."""

from __future__ import annotations

from pathlib import Path

from benchmarks.burst import BenchmarkFailed, job_span, run_burst_worker
from benchmarks.report import Row, compared
from benchmarks.subjects import Pair
from benchmarks.timing import back_to_back

SECTION = "execute"


def measure(pair: Pair, tasks: int, repeats: int, logs: Path, forking: bool = True) -> list[Row]:
    rows = []
    if forking:
        runs = back_to_back(repeats, lambda: _forking(pair, pair.ledger, tasks, logs),
                            lambda: _forking(pair, pair.bare, tasks, logs), pair.flush)
        per_job = [(a[0], b[0]) for a, b in runs]
        startup = [(a[1], b[1]) for a, b in runs]
        rows.append(compared(SECTION, f"{tasks} jobs, forking worker: `rqledger worker --burst` vs "
                                      "`rq worker --burst`", "ms/job", per_job,
                             note="first start to last end, as RQ recorded them"))
        rows.append(compared(SECTION, "  the same: the process's start and exit around the jobs", "s", startup,
                             note="wall time minus the jobs"))
    simple = back_to_back(repeats, lambda: _in_process(pair, pair.ledger, tasks),
                          lambda: _in_process(pair, pair.bare, tasks), pair.flush)
    rows.append(compared(SECTION, f"{tasks} jobs, SimpleWorker in this process: LedgerSimpleWorker vs "
                                  "SimpleWorker", "ms/job", simple, note="first start to last end"))
    return rows


def _forking(pair: Pair, side, tasks: int, logs: Path) -> tuple[float, float]:
    """(ms per job, seconds of process start and exit) of one burst worker process draining `tasks` jobs."""
    ids = side.enqueue_batch(tasks)
    log = logs / f"{side.label.replace(' ', '-')}-worker.log"
    wall = run_burst_worker(side.worker_command(), side.worker_env(), log, timeout=60 + tasks)
    span = job_span(pair.bare.connection, ids)
    _check_ledger(pair, side, ids)
    return span / tasks * 1000, wall - span


def _in_process(pair: Pair, side, tasks: int) -> float:
    """ms per job of an in-process SimpleWorker. Not the whole work() call: RQ's teardown waits up to
    1 s for its pub/sub thread, at random, which would swamp a small run."""
    ids = side.enqueue_batch(tasks)
    side.simple_worker().work(burst=True, logging_level="WARNING")
    span = job_span(pair.bare.connection, ids)
    _check_ledger(pair, side, ids)
    return span / tasks * 1000


def _check_ledger(pair: Pair, side, ids: list[str]) -> None:
    if side is not pair.ledger:
        return
    left = pair.unfinished_tasks(ids)
    if left:
        raise BenchmarkFailed(f"{left} ledger rows did not finish")
