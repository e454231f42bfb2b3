"""The result table (absolute numbers and the rqledger / bare-RQ ratio) and the environment it was measured in."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path


@dataclass
class Row:
    """One line of the table. `ratio` is the median of the per-repeat ratios (each measured back to back)."""

    section: str
    metric: str
    unit: str
    ledger: float | None
    bare: float | None
    ratio: float | None = None
    note: str = ""
    # the spread over the rounds: min and max of each side's values and of the per-round ratios
    ledger_min: float | None = None
    ledger_max: float | None = None
    bare_min: float | None = None
    bare_max: float | None = None
    ratio_min: float | None = None
    ratio_max: float | None = None
    extra: dict = field(default_factory=dict)  # facts for the JSON only (e.g. a query plan)


def compared(section: str, metric: str, unit: str, pairs: list[tuple[float, float]], note: str = "",
             **extra) -> Row:
    """A row from (rqledger, bare) pairs, one per repeat: medians of each side and of the pairs' ratios,
    with the min and max of each."""
    ledgers = [p[0] for p in pairs]
    bares = [p[1] for p in pairs]
    ratios = [p[0] / p[1] for p in pairs if p[1]]
    return Row(section, metric, unit, statistics.median(ledgers), statistics.median(bares),
               statistics.median(ratios) if ratios else None, note,
               min(ledgers), max(ledgers), min(bares), max(bares),
               min(ratios) if ratios else None, max(ratios) if ratios else None, extra)


def single(section: str, metric: str, unit: str, values: list[float], bare: float | None = None,
           note: str = "", **extra) -> Row:
    """A row where only rqledger has a measured value (bare RQ: a known constant such as 0, or nothing)."""
    return Row(section, metric, unit, statistics.median(values), bare, None, note,
               min(values), max(values), extra=extra)


def skipped(section: str, metric: str, why: str) -> Row:
    """A row saying that a measurement did not run, and why."""
    return Row(section, metric, "", None, None, None, f"skipped: {why}")


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}" if abs(value) >= 1 or value == 0 \
        else f"{value:.3f}"
    return f"{text} {unit}".strip()


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _spread(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "-"
    return f"{_number(low, '')}..{_number(high, '')}"


def render(rows: list[Row], markdown: bool = False) -> str:
    header = ("section", "metric", "rqledger", "min..max", "bare RQ", "min..max", "ratio", "note")
    cells = [(r.section, r.metric, _number(r.ledger, r.unit), _spread(r.ledger_min, r.ledger_max),
              _number(r.bare, r.unit), _spread(r.bare_min, r.bare_max), _ratio(r.ratio), r.note)
             for r in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines)
    widths = [max(len(str(row[i])) for row in [header, *cells]) for i in range(len(header))]
    align = ("<", "<", ">", ">", ">", ">", ">", "<")

    def line(row) -> str:
        return "  ".join(f"{str(v):{a}{w}}" for v, a, w in zip(row, align, widths)).rstrip()

    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *(line(c) for c in cells)])


def environment(redis_url: str, database_url: str) -> list[tuple[str, str]]:
    """Facts about the machine and the software, for the report."""
    facts = [
        ("date", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", f"{platform.machine()}, {_cpu_model()}"),
        ("CPUs", f"{os.cpu_count()} (usable: {len(os.sched_getaffinity(0))})"),
        ("load average", ", ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("python", platform.python_version()),
        ("packages", ", ".join(f"{name} {_version(name)}" for name in
                               ("rq", "redis", "sqlalchemy", "psycopg", "flask"))),
        ("redis server", _redis_version(redis_url)),
        ("database", _database_version(database_url)),
        ("rqledger commit", _commit()),
    ]
    return facts


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _redis_version(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return f"Redis {client.info('server')['redis_version']}"
    finally:
        client.close()


def _database_version(url: str) -> str:
    import sqlite3

    from rqledger.adapters.sqlalchemy.engine import normalize_url

    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return f"SQLite {sqlite3.sqlite_version} (a file in a temporary folder)"
    import sqlalchemy as sa

    engine = sa.create_engine(parsed)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT version()")).scalar()
    finally:
        engine.dispose()
    return f"{backend}: {str(version).split(',')[0]}"


def _commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        done = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %cs"], capture_output=True,
                              text=True, timeout=5)
        # what ran is the working tree: say when it is not the commit (uncommitted changes to tracked files)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        commit = done.stdout.strip() or "unknown"
        return f"{commit} + uncommitted changes ({len(dirty.splitlines())} files)" if dirty else commit
    except (OSError, subprocess.SubprocessError):
        return "unknown"
