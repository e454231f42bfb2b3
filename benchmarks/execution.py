"""2. Draining trivial tasks: burst workers as processes (one and two of them, forking and SimpleWorker
classes, and the pooled worker of one and two processes), and SimpleWorkers in this process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.burst import BenchmarkFailed, job_span, run_burst_worker
from benchmarks.report import Row, compared
from benchmarks.subjects import Ledger, Pair
from benchmarks.timing import back_to_back

SECTION = "execute"
# the SimpleWorker class as a process: rqledger's switch, and RQ's own class for `rq worker`
LEDGER_SIMPLE = ["--simple"]
LEDGER_FORKING = ["--fork-per-task"]  # the pooled worker is the command's default; its rows say --concurrency
RQ_SIMPLE = ["--worker-class", "rq.worker.SimpleWorker"]


def measure(pair: Pair, tasks: int, repeats: int, logs: Path, forking: bool = True) -> list[Row]:
    rows = []
    if forking:
        runs = back_to_back(repeats, lambda: _burst(pair, pair.ledger, tasks, logs),
                            lambda: _burst(pair, pair.bare, tasks, logs), pair.flush)
        per_job = [(a[0], b[0]) for a, b in runs]
        startup = [(a[1], b[1]) for a, b in runs]
        rows.append(compared(SECTION, f"{tasks} jobs, forking worker: `rqledger worker --burst` vs "
                                      "`rq worker --burst`", "ms/job", per_job,
                             note="first start to last end, as RQ recorded them"))
        rows.append(compared(SECTION, "  the same: the process's start and exit around the jobs", "s", startup,
                             note="wall time minus the jobs"))
    runs = back_to_back(repeats, lambda: _burst(pair, pair.ledger, tasks, logs, simple=True),
                        lambda: _burst(pair, pair.bare, tasks, logs, simple=True), pair.flush)
    rows.append(compared(SECTION, f"{tasks} jobs, SimpleWorker class as a process: `rqledger worker --burst "
                                  "--simple` vs `rq worker --burst --worker-class ...SimpleWorker`",
                         "ms/job", [(a[0], b[0]) for a, b in runs], note="first start to last end"))
    if forking:
        rows.append(_two_processes(pair, tasks, repeats, logs, simple=False))
    rows.append(_two_processes(pair, tasks, repeats, logs, simple=True))
    rows.extend(_pooled(pair, tasks, repeats, logs))
    simple = back_to_back(repeats, lambda: _in_process(pair, pair.ledger, tasks),
                          lambda: _in_process(pair, pair.bare, tasks), pair.flush)
    rows.append(compared(SECTION, f"{tasks} jobs, SimpleWorker in this process: LedgerSimpleWorker vs "
                                  "SimpleWorker", "ms/job", simple, note="first start to last end"))
    return rows


def _two_processes(pair: Pair, tasks: int, repeats: int, logs: Path, simple: bool) -> Row:
    def throughput(side) -> float:
        return tasks / _burst(pair, side, tasks, logs, simple=simple, processes=2)[2]

    runs = back_to_back(repeats, lambda: throughput(pair.ledger), lambda: throughput(pair.bare), pair.flush)
    kind = "SimpleWorker class (the commands above)" if simple else "forking (the commands above)"
    return compared(SECTION, f"{tasks} jobs, 2 worker processes of each, {kind}", "jobs/s", runs,
                    note="first start to last end; higher is better")


def _pooled(pair: Pair, tasks: int, repeats: int, logs: Path) -> list[Row]:
    """`rqledger worker --concurrency N` (long-lived processes, no fork per task) against N stock `rq worker`
    processes (forking, RQ's default): the target of issue 16 is 1.0x with N = 1 and N = 2."""
    rows = []
    for processes in (1, 2):
        def pooled() -> float:
            ids = pair.ledger.enqueue_batch(tasks)
            command = pair.ledger.worker_command() + ["--concurrency", str(processes)]
            run_burst_worker(command, pair.ledger.worker_env(), logs / f"ledger-pooled-{processes}.log", 60 + tasks)
            span = job_span(pair.bare.connection, ids)
            check_ledger(pair, pair.ledger, ids)
            return tasks / span

        def bare() -> float:
            return tasks / _burst(pair, pair.bare, tasks, logs, processes=processes)[2]

        runs = back_to_back(repeats, pooled, bare, pair.flush)
        rows.append(compared(SECTION, f"{tasks} jobs, pooled worker: `rqledger worker --burst --concurrency "
                                      f"{processes}` vs {processes} `rq worker --burst` (forking)", "jobs/s", runs,
                             note="first start to last end; higher is better"))
    return rows


def worker_command(side, simple: bool = False) -> list[str]:
    """The burst worker command of a side, forking or of the SimpleWorker class (both CLIs are click's:
    options may follow the queue argument)."""
    if not simple:
        return side.worker_command() + (LEDGER_FORKING if isinstance(side, Ledger) else [])
    return side.worker_command() + (LEDGER_SIMPLE if isinstance(side, Ledger) else RQ_SIMPLE)


def burst_workers(side, logs: Path, timeout: float, simple: bool = False, processes: int = 1) -> float:
    """Runs `processes` burst workers of a side at once (each with its log) to their end; the wall seconds."""
    label = side.label.replace(" ", "-") + ("-simple" if simple else "")
    command, env = worker_command(side, simple), side.worker_env()
    if processes == 1:
        return run_burst_worker(command, env, logs / f"{label}-worker.log", timeout)
    with ThreadPoolExecutor(processes) as pool:
        walls = list(pool.map(lambda n: run_burst_worker(command, env, logs / f"{label}-worker-{n}.log", timeout),
                              range(processes)))
    return max(walls)


def _burst(pair: Pair, side, tasks: int, logs: Path, simple: bool = False,
           processes: int = 1) -> tuple[float, float, float]:
    """(ms per job, seconds of process start and exit, seconds of the jobs) of `processes` burst worker
    processes draining `tasks` jobs."""
    ids = side.enqueue_batch(tasks)
    wall = burst_workers(side, logs, timeout=60 + tasks, simple=simple, processes=processes)
    span = job_span(pair.bare.connection, ids)
    check_ledger(pair, side, ids)
    return span / tasks * 1000, wall - span, span


def _in_process(pair: Pair, side, tasks: int) -> float:
    """ms per job of an in-process SimpleWorker. Not the whole work() call: RQ's teardown waits up to
    1 s for its pub/sub thread, at random, which would swamp a small run."""
    ids = side.enqueue_batch(tasks)
    side.simple_worker().work(burst=True, logging_level="WARNING")
    span = job_span(pair.bare.connection, ids)
    check_ledger(pair, side, ids)
    return span / tasks * 1000


def check_ledger(pair: Pair, side, ids: list[str]) -> None:
    if side is not pair.ledger:
        return
    left = pair.unfinished_tasks(ids)
    if left:
        raise BenchmarkFailed(f"{left} ledger rows did not finish")
