"""What the ledger side of a job costs in a freshly forked work-horse, and how much of it is the fork's fault.

    python -m benchmarks.cold_start [--rounds 30] [--database-url sqlite|postgresql|URL]

A worker-like parent process (its container built as `rqledger worker` builds it)
forks one child per round, like RQ's work-horse. Each child runs, back to back:

1. connect: the ledger engine's first connection (the child may not reuse the parent's);
2. redis: the first change event published (a new Redis connection in the child);
3. cold job: the ledger's part of a trivial job (start, run, finish: 7 statements,
   2 commits) for the first time in this process: statements compiled here;
4. warm job: the same for a second task: what it costs once everything is warm.

Each round's steps share the same moment of a noisy machine, so their differences
are steadier than the time of a whole job. With --warm-parent, the parent connects
and runs a job's statements once (rolled back) before forking: children then
inherit a set-up dialect and compiled statements; with --freeze it calls gc.freeze()
so that the children's garbage collections do not touch (and copy) its objects
(see FINDINGS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STEPS = ("connect", "redis", "cold job", "warm job")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cold_start", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--warm-parent", action="store_true",
                        help="the parent connects and compiles a job's statements before forking")
    parser.add_argument("--freeze", action="store_true",
                        help="the parent calls gc.freeze() before forking (children's collections skip its objects)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.serve:
        return serve(options.rounds, options.warm_parent, options.freeze)

    from rqledger.adapters.sqlalchemy import upgrade
    from benchmarks.services import REDIS_URL, private_database, private_redis_db
    from benchmarks.subjects import Ledger, process_env

    with private_redis_db(options.redis_url or REDIS_URL) as redis_url, \
            private_database(options.database_url) as database_url:
        upgrade(database_url)
        ledger = Ledger(redis_url, database_url)
        try:
            ledger.enqueue_batch(2 * options.rounds)  # rows to start and finish; their jobs are never run
        finally:
            ledger.close()
        command = [sys.executable, "-m", "benchmarks.cold_start", "--serve", "--rounds", str(options.rounds)]
        command += ["--warm-parent"] * options.warm_parent + ["--freeze"] * options.freeze
        done = subprocess.run(command, env=process_env(ledger.env), capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
        return 1
    rounds = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    parent = " + ".join(["warmed"] * options.warm_parent + ["gc.freeze()"] * options.freeze) or "as rqledger worker"
    print(f"{len(rounds)} forked children, parent {parent}; ms, median [min - max]")
    for step in STEPS:
        values = [r[step] for r in rounds]
        print(f"  {step:<10} {statistics.median(values):8.2f}  [{min(values):.2f} - {max(values):.2f}]")
    extra = [r["cold job"] - r["warm job"] for r in rounds]
    print(f"  {'cold - warm job':<10} {statistics.median(extra):8.2f}  (compiling the statements, first use)")
    return 0


def serve(rounds: int, warm_parent: bool, freeze: bool) -> int:
    """The worker-like parent: builds what `rqledger worker` builds, then forks one child per round."""
    from rqledger.entrypoints import runtime
    from rqledger.entrypoints.container import build_container
    from rqledger.entrypoints.worker import build_worker

    container = build_container()
    runtime.install(container)
    build_worker(container)  # as the worker does: its failure handlers take the unit of work
    if warm_parent:
        from benchmarks.horse_probe import compile_job_statements

        compile_job_statements()
    if freeze:
        import gc

        gc.freeze()
    for number in range(rounds):
        first, second = 2 * number + 1, 2 * number + 2
        pid = os.fork()
        if pid == 0:
            try:
                print(json.dumps(_child(container, first, second)), flush=True)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    return 0


def _child(container, first: int, second: int) -> dict:
    from rqledger.entrypoints.task_entry import ledger_job

    timings = {}
    began = time.perf_counter()
    with container.database_engine().connect():
        pass
    timings["connect"] = _ms(began)
    began = time.perf_counter()
    container.events().publish({"kind": "benchmark", "id": 0, "status": "none", "progress": 0})
    timings["redis"] = _ms(began)
    job = ledger_job(container)
    for name, task_id in (("cold job", first), ("warm job", second)):
        began = time.perf_counter()
        job(None, task_id, "noop")
        timings[name] = _ms(began)
    return timings


def _ms(began: float) -> float:
    return (time.perf_counter() - began) * 1000


if __name__ == "__main__":
    raise SystemExit(main())
