"""Listing a big ledger: GET /api/tasks pages on a tasks table of --list-rows rows (default 1,000,000).

The table is filled fast (PostgreSQL: one INSERT ... SELECT FROM generate_series;
elsewhere, only when --list-rows is given: multi-row INSERTs from Python), with
statuses mixed like a real ledger (mostly finished; some failed, canceled, queued;
a few running), a few task names and owners, JSON args and results, then ANALYZEd.
Each page is fetched ~200 times through the Flask test client of create_app on that
database; the baseline is the same SQL statements the request ran, replayed on a
plain connection, so the ratio is what the API adds around the query. Each query's
plan (EXPLAIN) goes into the JSON. The rows are removed afterwards.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, insert, text

from benchmarks.burst import BenchmarkFailed
from benchmarks.report import Row, compared, skipped
from benchmarks.subjects import Pair

SECTION = "listing"
NAMES = ("send_mail", "resize_image", "sync_account", "build_report", "noop")
RARE = "running"


def status_of(n: int) -> str:
    """The status of generated row n (the same rule as the SQL below): ~0.1% running, ~1% queued..."""
    if n % 1000 == 7:
        return "running"
    if n % 100 == 3:
        return "queued"
    if n % 50 == 1:
        return "failed"
    if n % 97 == 5:
        return "canceled"
    return "finished"


_STATUS_SQL = ("CASE WHEN g % 1000 = 7 THEN 'running' WHEN g % 100 = 3 THEN 'queued' WHEN g % 50 = 1 THEN 'failed' "
               "WHEN g % 97 = 5 THEN 'canceled' ELSE 'finished' END")

_POSTGRES_FILL = f"""
INSERT INTO rqledger_tasks (name, description, args, kwargs, status, progress, result, log, queue, timeout,
                            retry_policy, owner, attempts, retry_base, created_at, enqueued_at, started_at, ended_at,
                            worker, version)
SELECT (ARRAY['send_mail','resize_image','sync_account','build_report','noop'])[1 + g % 5],
       '',
       '[' || g || ',"user-' || (g % 1000) || '@example.com",{{"size":[640,480],"format":"webp"}}]',
       '{{"priority":' || (g % 3) || '}}',
       s.status,
       CASE WHEN s.status = 'finished' THEN 100 WHEN s.status = 'running' THEN 40 ELSE 0 END,
       CASE WHEN s.status = 'finished' THEN '{{"value":{{"sent": true,"message_id":"<' || g || '@example.com>"}}}}'
            WHEN s.status = 'failed' THEN '{{"error":"ConnectionError: timed out after 30 s"}}' END,
       CASE WHEN s.status = 'failed' THEN 'attempt 1 failed: ConnectionError: timed out after 30 s' ELSE '' END,
       'default', 180, NULL,
       (ARRAY['alice','bob','carol',NULL])[1 + g % 4],
       CASE WHEN s.status = 'queued' THEN 0 ELSE 1 END, 0,
       t.at, t.at,
       CASE WHEN s.status IN ('queued', 'canceled') THEN NULL ELSE t.at + interval '5 ms' END,
       CASE WHEN s.status IN ('finished', 'failed', 'canceled') THEN t.at + interval '50 ms' END,
       CASE WHEN s.status IN ('queued', 'canceled') THEN NULL ELSE 'bench-host.' || (1000 + g % 4) END,
       3
FROM generate_series(1, :rows) AS g
CROSS JOIN LATERAL (SELECT {_STATUS_SQL} AS status) AS s
CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE 'UTC') - make_interval(secs => (:rows - g)) AS at) AS t
"""


def measure(pair: Pair, rows: int | None, requests: int, repeats: int, default_rows: int) -> list[Row]:
    engine = pair.ledger.engine
    backend = engine.dialect.name
    if rows is None and backend != "postgresql":
        return [skipped(SECTION, "GET /api/tasks pages on a big tasks table",
                        f"the ledger is {backend}, not PostgreSQL (give --list-rows to run it anyway)")]
    rows = rows or default_rows
    began = time.monotonic()
    low, high = _fill(engine, rows)
    fill_seconds = time.monotonic() - began
    try:
        middle, bottom = (low + high) // 2, low + 100
        queries = [
            (f"status={RARE} (~0.1%)", f"/api/tasks?status={RARE}&limit=50"),
            ("status=finished (~96%)", "/api/tasks?status=finished&limit=50"),
            ("all, cursor in the middle", f"/api/tasks?limit=50&cursor={middle}"),
            ("all, cursor near the bottom", f"/api/tasks?limit=50&cursor={bottom}"),
            ("status=failed, cursor near the bottom", f"/api/tasks?status=failed&limit=50&cursor={bottom}"),
        ]
        client = pair.ledger.client
        found = []
        for label, path in queries:
            statements = _statements_of(engine, client, path)
            plan = _plan(engine, statements)
            api_rounds, sql_rounds = [], []
            for round_number in range(repeats):
                api = [_get(client, path) for _ in range(requests)]
                sql = [_replay(engine, statements) for _ in range(requests)]
                api_rounds.append(api)
                sql_rounds.append(sql)
            p50 = [(_pct(a, 50), _pct(b, 50)) for a, b in zip(api_rounds, sql_rounds)]
            p95 = [(_pct(a, 95), _pct(b, 95)) for a, b in zip(api_rounds, sql_rounds)]
            found.append(compared(SECTION, f"GET {label}: p50 of {requests}", "ms", p50,
                                  note="bare: the same SQL on a plain connection", path=path, plan=plan))
            short_plan = re.sub(r"\s*\(cost=[^)]*\)", "", plan)
            found.append(compared(SECTION, "  the same, p95", "ms", p95,
                                  note=f"target <= 20 ms; plan: {short_plan}", path=path, plan=plan))
        found.append(Row(SECTION, f"  filling {rows:,} rows + ANALYZE", "s", fill_seconds, None,
                         note=f"{backend}; not a comparison"))
        return found
    finally:
        _remove(engine, low, high)


def _fill(engine, rows: int) -> tuple[int, int]:
    with engine.begin() as conn:
        before = conn.execute(text("SELECT coalesce(max(id), 0) FROM rqledger_tasks")).scalar()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(_POSTGRES_FILL), {"rows": rows})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE rqledger_tasks"))
    else:
        _fill_portably(engine, rows)
        with engine.begin() as conn:
            mysql = engine.dialect.name in ("mysql", "mariadb")
            conn.execute(text("ANALYZE TABLE rqledger_tasks" if mysql else "ANALYZE"))
    with engine.connect() as conn:
        low, high = conn.execute(text("SELECT min(id), max(id) FROM rqledger_tasks WHERE id > :b"), {"b": before}).one()
    if low is None or high - low + 1 != rows:
        raise BenchmarkFailed(f"the fill made ids {low}..{high}, not {rows} rows")
    return low, high


def _fill_portably(engine, rows: int, chunk: int = 5_000) -> None:
    from rqledger.adapters.sqlalchemy.tables import TaskRow

    tasks = TaskRow.__table__
    start = datetime.now(timezone.utc) - timedelta(seconds=rows)
    for first in range(1, rows + 1, chunk):
        values = []
        for g in range(first, min(first + chunk, rows + 1)):
            status = status_of(g)
            at = start + timedelta(seconds=g)
            ended = status in ("finished", "failed", "canceled")
            values.append({
                "name": NAMES[g % 5], "description": "", "args": [g, f"user-{g % 1000}@example.com",
                                                               {"size": [640, 480], "format": "webp"}],
                "kwargs": {"priority": g % 3}, "status": status, "progress": 100 if status == "finished" else 0,
                "result": {"value": {"sent": True, "message_id": f"<{g}@example.com>"}} if status == "finished"
                else None,
                "log": "", "queue": "default", "timeout": 180, "retry_policy": None,
                "owner": ("alice", "bob", "carol", None)[g % 4], "attempts": 1, "retry_base": 0,
                "created_at": at, "enqueued_at": at, "started_at": at if status not in ("queued", "canceled") else None,
                "ended_at": at + timedelta(milliseconds=50) if ended else None, "worker": None, "version": 3})
        with engine.begin() as conn:
            conn.execute(insert(tasks), values)


def _remove(engine, low: int, high: int) -> None:
    if engine.dialect.name == "postgresql":  # the run's private database: everything may go, at once
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE rqledger_tasks CASCADE"))
        return
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rqledger_tasks WHERE id BETWEEN :low AND :high"), {"low": low, "high": high})


def _get(client, path: str) -> float:
    began = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise BenchmarkFailed(f"GET {path} answered {response.status_code}: {response.get_data(True)[:300]}")
    return elapsed


def _statements_of(engine, client, path: str) -> list[tuple[str, object]]:
    """The SQL statements (with their parameters) that one GET of `path` runs."""
    seen = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        _get(client, path)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return [(s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT")]


def _replay(engine, statements) -> float:
    with engine.connect() as conn:
        began = time.perf_counter()
        for statement, parameters in statements:
            conn.exec_driver_sql(statement, parameters).fetchall()
        elapsed = (time.perf_counter() - began) * 1000
        conn.rollback()
    return elapsed


def _plan(engine, statements) -> str:
    """The plan line that matters (index or sequential scan) of the request's query on tasks."""
    on_tasks = [(s, p) for s, p in statements if "FROM rqledger_tasks" in s]
    if not on_tasks:
        return "no query on tasks"
    statement, parameters = on_tasks[0]
    backend = engine.dialect.name
    with engine.connect() as conn:
        if backend == "sqlite":
            lines = [str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
        elif backend == "postgresql":
            lines = [str(r[0]).strip() for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
        else:
            lines = [" ".join(f"{k}={v}" for k, v in r._mapping.items() if k in ("table", "type", "key", "rows"))
                     for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
        conn.rollback()
    for line in lines:
        if any(word in line for word in ("Index", "Seq Scan", "Bitmap", "SCAN", "SEARCH", "key=")):
            return line.replace("->", "").strip()
    return lines[0] if lines else "?"


def _pct(values: list[float], percent: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]
