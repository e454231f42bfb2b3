"""The benchmark suite: rqledger against bare RQ on the same Redis, in the same run, as ratios.

    python -m benchmarks [--redis-url URL] [--database-url sqlite|postgresql|mysql|URL]
                         [--tasks N] [--repeat R] [--quick] [--only a,b] [--markdown]

Sections: enqueue (one by one, batch, HTTP batch, and the one-INSERT ceiling),
execute (forking burst workers, in-process SimpleWorkers), progress (set_progress in
a tight loop), http (a real `rqledger web` with 1 and 8 clients), latency (enqueue to
finished with running workers), listing (API pages on a big tasks table), requests
(SQL statements and Redis commands per task), memory (worker RSS after 100 and
--memory-tasks tasks). Each measurement is repeated after a warm-up; the table shows
medians with min..max, and the median of the ratios, each ratio measured back to back.
See benchmarks/README.md.

It takes a Redis database number of its own on --redis-url's server (the same
locks as the tests; the number in the URL is ignored) and a ledger database of its
own: a temporary SQLite file by default; "postgresql" or "mysql" for the servers of
RQLEDGER_TEST_POSTGRES_URL / RQLEDGER_TEST_MYSQL_URL; or a server URL, where a
database is created and dropped afterwards. The requests section also starts a
redis-server of its own, so that the commands counted are ours alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/run.py`: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SECTIONS = ("enqueue", "execute", "progress", "http", "latency", "listing", "requests", "memory", "peers")


def parse(argv: list[str] | None) -> argparse.Namespace:
    from benchmarks.services import REDIS_URL

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default=REDIS_URL,
                        help="the Redis server to use (default: $RQLEDGER_TEST_REDIS_URL or %(default)s); "
                             "a free database number 1-15 is taken on it")
    parser.add_argument("--database-url", default="sqlite",
                        help="sqlite (a temporary file, the default), postgresql, mysql, or a server URL")
    parser.add_argument("--tasks", type=int, default=None, help="tasks per measurement (default 200; quick: 10)")
    parser.add_argument("--repeat", type=int, default=None, help="rounds per measurement (default 3; quick: 1)")
    parser.add_argument("--progress-calls", type=int, default=None,
                        help="set_progress calls in the progress task (default 10,000; quick: 1,000)")
    parser.add_argument("--http-tasks", type=int, default=None,
                        help="tasks per round through the real web server (default 1,000, the batch row 5x that; "
                             "quick: 20)")
    parser.add_argument("--list-rows", type=int, default=None,
                        help="rows in the tasks table of the listing section (default on PostgreSQL 1,000,000; "
                             "quick: 2,000); on other databases the section runs only when this is given")
    parser.add_argument("--memory-tasks", type=int, default=None,
                        help="tasks each worker runs in the memory section (default 10,000; quick: 120)")
    parser.add_argument("--durability", choices=("durable", "fast"), default=None,
                        help="the ledger's RQLEDGER_DURABILITY (default: $RQLEDGER_DURABILITY, else durable)")
    parser.add_argument("--quick", action="store_true", help="tiny numbers: checks that everything runs")
    parser.add_argument("--only", default=",".join(SECTIONS), metavar="a,b",
                        help=f"sections to run (default: all of {', '.join(SECTIONS)})")
    parser.add_argument("--no-forking", action="store_true", help="skip the forking worker processes")
    parser.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    parser.add_argument("--json", metavar="FILE", help="also write the rows and the environment to FILE")
    options = parser.parse_args(argv)
    options.tasks = options.tasks or (10 if options.quick else 200)
    options.repeat = options.repeat or (1 if options.quick else 3)
    options.progress_calls = options.progress_calls or (1_000 if options.quick else 10_000)
    options.http_tasks = options.http_tasks or (20 if options.quick else 1_000)
    options.list_default = 2_000 if options.quick else 1_000_000
    options.list_requests = 20 if options.quick else 200
    options.memory_tasks = options.memory_tasks or (120 if options.quick else 10_000)
    if options.durability:  # read by subjects.ledger_env, and inherited by every process the suite starts
        os.environ["RQLEDGER_DURABILITY"] = options.durability
    options.sections = [s.strip() for s in options.only.split(",") if s.strip()]
    unknown = set(options.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    from benchmarks.burst import BenchmarkFailed
    from benchmarks.services import ServiceMissing

    logs = Path(tempfile.mkdtemp(prefix="rqledger-bench-logs-"))
    try:
        rows, facts, breakdown = run(options, logs)
    except (ServiceMissing, BenchmarkFailed) as exc:
        print(f"benchmark failed: {exc}\n(worker logs kept in {logs})", file=sys.stderr)
        return 1
    shutil.rmtree(logs, ignore_errors=True)
    from benchmarks.report import render

    print()
    print(render(rows, markdown=options.markdown))
    print("\nratio = rqledger / bare RQ, the median of per-round ratios measured back to back "
          "(> 1: rqledger costs more). Times are noisy on a shared machine; trust the ratios over the absolutes.")
    if options.json:
        Path(options.json).write_text(json.dumps({"environment": dict(facts), "rows": [vars(r) for r in rows],
                                                  "commands": breakdown}, indent=2, default=str))
    return 0


def run(options: argparse.Namespace, logs: Path):
    from rqledger.adapters.sqlalchemy import upgrade
    from benchmarks import counts, enqueueing, execution, http_load, latency, listing, memory, progress_cost
    from benchmarks.report import environment
    from benchmarks.services import private_database, private_redis_db
    from benchmarks.subjects import Pair, durability

    rows, breakdown = [], {}
    began = time.monotonic()
    with private_redis_db(options.redis_url) as redis_url, private_database(options.database_url) as database_url:
        facts = environment(redis_url, database_url)
        facts.append(("durability", f"{durability()} (RQLEDGER_DURABILITY)"))
        facts.append(("settings", f"--tasks {options.tasks} --repeat {options.repeat} "
                                  f"--progress-calls {options.progress_calls} --http-tasks {options.http_tasks} "
                                  f"--list-rows {options.list_rows or options.list_default} "
                                  f"--memory-tasks {options.memory_tasks}"))
        print("rqledger benchmarks")
        for name, value in facts:
            print(f"  {name:<16} {value}", flush=True)
        upgrade(database_url)
        pair = Pair(redis_url, database_url)
        try:
            if "enqueue" in options.sections:
                _progress("enqueue")
                rows += enqueueing.measure(pair, options.tasks, options.repeat)
            if "execute" in options.sections:
                _progress("execute")
                rows += execution.measure(pair, options.tasks, options.repeat, logs, forking=not options.no_forking)
            if "progress" in options.sections:
                _progress("progress")
                rows += progress_cost.measure(pair, options.progress_calls, options.repeat)
            if "http" in options.sections:
                _progress("http")
                rows += http_load.measure(pair, options.http_tasks, 5 * options.http_tasks, options.repeat, logs)
            if "latency" in options.sections:
                _progress("latency")
                rows += latency.measure(pair, options.tasks, options.repeat, logs)
            if "listing" in options.sections:
                _progress("listing")
                rows += listing.measure(pair, options.list_rows, options.list_requests, options.repeat,
                                        options.list_default)
            if "peers" in options.sections:  # Celery (the `bench` extra), on the same Redis and database
                from benchmarks import peers

                _progress("peers")
                rows += peers.measure(pair, options.tasks, options.repeat, logs)
        finally:
            pair.close()
        if "requests" in options.sections:
            _progress("requests")
            found, breakdown = counts.measure(database_url, min(options.tasks, 200), logs,
                                              forking=not options.no_forking)
            rows += found
        if "memory" in options.sections:
            _progress("memory")
            pair = Pair(redis_url, database_url)
            try:
                rows += memory.measure(pair, options.memory_tasks, logs)
            finally:
                pair.close()
    facts.append(("load at the end", ", ".join(f"{x:.2f}" for x in os.getloadavg())))
    print(f"  {'load at the end':<16} {facts[-1][1]}   (took {time.monotonic() - began:.0f} s)")
    return rows, facts, breakdown


_STARTED = time.monotonic()


def _progress(section: str) -> None:
    print(f"... {section} (at {time.monotonic() - _STARTED:.1f} s)", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
