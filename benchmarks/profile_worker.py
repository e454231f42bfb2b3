"""Where a forking worker's time per job goes: rqledger's worker vs bare RQ's, phase by phase.

    python -m benchmarks.profile_worker [--tasks 100] [--database-url sqlite|postgresql|URL]
                                        [--tweaks a,b] [--profile] [--redis-url URL]

Both workers run as subprocesses with benchmarks.horse_probe's worker classes,
which time each job in the parent and in the work-horse (see that module). With
--profile, the rqledger work-horses are profiled (cProfile) and the functions with
the most cumulative time are printed. --tweaks tries the changes FINDINGS.md
proposes (connect, statements, libversion: see benchmarks.horse_probe).
"""

from __future__ import annotations

import argparse
import json
import pstats
import statistics
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_worker", description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--tweaks", default="", metavar="a,b",
                        help="changes to try in the rqledger worker: connect, statements, libversion "
                             "(see benchmarks.horse_probe)")
    parser.add_argument("--profile", action="store_true", help="cProfile the rqledger work-horses")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the worker subprocess
    options = parser.parse_args(argv)
    if options.serve:
        return serve()

    from rqledger.adapters.sqlalchemy import upgrade
    from benchmarks.burst import run_burst_worker
    from benchmarks.services import REDIS_URL, private_database, private_redis_db
    from benchmarks.subjects import QUEUE, BareRq, Ledger, process_env, script

    folder = Path(tempfile.mkdtemp(prefix="rqledger-profile-"))
    with private_redis_db(options.redis_url or REDIS_URL) as redis_url, \
            private_database(options.database_url) as database_url:
        upgrade(database_url)
        ledger, bare = Ledger(redis_url, database_url), BareRq(redis_url)
        try:
            ledger.enqueue_batch(options.tasks)
            probe = {"RQLEDGER_PROBE_OUT": str(folder / "ledger.jsonl")}
            if options.profile:
                (folder / "prof").mkdir()
                probe["RQLEDGER_PROBE_PROFILE"] = str(folder / "prof")
            if options.tweaks:
                probe["RQLEDGER_PROBE_TWEAKS"] = options.tweaks
            command = [sys.executable, "-m", "benchmarks.profile_worker", "--serve"]
            run_burst_worker(command, process_env({**ledger.env, **probe}), folder / "ledger.log", 600)
            bare.connection.flushdb()
            bare.enqueue_batch(options.tasks)
            command = [*script("rq"), "worker", "--burst", "--with-scheduler", "--serializer", "json",
                       "-w", "benchmarks.horse_probe.ProbeRqWorker", "--url", redis_url, QUEUE]
            env = process_env({"RQLEDGER_PROBE_OUT": str(folder / "bare.jsonl")})
            run_burst_worker(command, env, folder / "bare.log", 600)
        finally:
            ledger.close()
            bare.close()
    print(f"{options.tasks} trivial jobs per worker; medians per job (ms); raw data in {folder}")
    print(phase_table({"rqledger": read_phases(folder / "ledger.jsonl"), "bare RQ": read_phases(folder / "bare.jsonl")}))
    if options.profile:
        print_profile(folder / "prof", options.top)
    return 0


def serve() -> int:
    """The worker subprocess: what `rqledger worker --burst` does, with the probing worker class."""
    from benchmarks.horse_probe import ProbeWorker
    from rqledger.entrypoints import runtime
    from rqledger.entrypoints.container import build_container
    from rqledger.entrypoints.worker import build_worker, configure_logging

    container = build_container()
    runtime.install(container)
    configure_logging()
    build_worker(container, worker_class=ProbeWorker).work(burst=True, with_scheduler=True, logging_level="INFO")
    return 0


PHASES = ("parent_ms", "fork_ms", "horse_ms", "job_ms", "after_ms", "sql_statements", "sql_commits", "db_connects")


def read_phases(path: Path) -> dict[str, list[float]]:
    """Per-job phase values from a probe file (see benchmarks.horse_probe)."""
    parent, horse = {}, {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        (parent if record["side"] == "parent" else horse)[record["job"]] = record
    phases: dict[str, list[float]] = {name: [] for name in PHASES}
    for job_id, outer in parent.items():
        inner = horse.get(job_id)
        phases["parent_ms"].append((outer["ended"] - outer["began"]) * 1000)
        if inner is None:
            continue
        phases["fork_ms"].append((inner["began"] - inner["fork_at"]) * 1000)
        phases["horse_ms"].append((inner["ended"] - inner["began"]) * 1000)
        if inner.get("job_s") is not None:
            phases["job_ms"].append(inner["job_s"] * 1000)
        phases["after_ms"].append((outer["ended"] - inner["ended"]) * 1000)
        for name in ("sql_statements", "sql_commits", "db_connects"):
            if name in inner:
                phases[name].append(inner[name])
    return phases


def phase_table(sides: dict[str, dict[str, list[float]]]) -> str:
    names = list(sides)
    lines = [f"{'phase':<16}" + "".join(f"{n:>12}" for n in names)]
    for phase in PHASES:
        cells = []
        for name in names:
            values = sides[name][phase]
            cells.append(f"{statistics.median(values):>12.2f}" if values else f"{'-':>12}")
        lines.append(f"{phase:<16}" + "".join(cells))
    return "\n".join(lines)


def print_profile(folder: Path, top: int) -> None:
    files = sorted(folder.glob("horse-*.prof"))
    if not files:
        print("no profiles were written")
        return
    stats = pstats.Stats(str(files[0]))
    for extra in files[1:]:
        stats.add(str(extra))
    print(f"\ncProfile of {len(files)} rqledger work-horses (totals over all of them), by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    raise SystemExit(main())
