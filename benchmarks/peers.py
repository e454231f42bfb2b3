"""7. The peer a user would pick instead: Celery, with its Redis broker and its SQLAlchemy result backend.

Celery's broker is the suite's own Redis database, its result backend the ledger's
database (the same SQLite file, or the same private PostgreSQL/MySQL database: its
celery_taskmeta table is dropped at the end). Results are stored, one committed row per
task, as the ledger commits the outcome of each task. Each row compares rqledger with
Celery (the "bare RQ" column holds Celery's figure here, the ratio is rqledger / Celery)
and names bare RQ's figure of the same round in its note.

- enqueue: N tasks one by one, EnqueueTask vs `.delay()` (bare RQ: Queue.enqueue).
- drain: N pre-enqueued tasks, `celery worker --pool prefork --concurrency 2` (and 1) as
  a process (started, waited for until ready, stopped), against two (one) `rqledger
  worker --burst` processes, forking and --simple (bare RQ: `rq worker --burst`, forking
  and SimpleWorker class). Throughput on every side is (N - 1) / (last end - first end):
  the ends RQ recorded (ended_at), and Celery's result rows (date_done), so that nobody's
  start-up counts and every side is measured the same way.

Celery is in the `bench` extra only: without it, the section prints one row saying so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Callable

from rq.job import Job
from rq.utils import utcparse

from benchmarks.burst import BenchmarkFailed, run_burst_worker
from benchmarks.execution import burst_workers, check_ledger
from benchmarks.report import Row, compared
from benchmarks.subjects import Pair, process_env
from benchmarks.timing import seconds

SECTION = "peers"
INSTALL = "pip install -e '.[bench]'"


def measure(pair: Pair, tasks: int, repeats: int, logs: Path) -> list[Row]:
    try:
        import celery  # noqa: F401
    except ImportError:
        return [Row(section=SECTION, metric=f"Celery is not installed: {INSTALL}", unit="", ledger=None, bare=None,
                    note="section skipped")]
    peer = CeleryPeer(pair.bare.redis_url, pair.ledger.env["DATABASE_URL"], logs)
    try:
        return _measure(pair, peer, max(tasks, 2), repeats, logs)
    finally:
        peer.close()


def _measure(pair: Pair, peer: CeleryPeer, tasks: int, repeats: int, logs: Path) -> list[Row]:
    ledger, bare = pair.ledger, pair.bare

    def between() -> None:
        pair.flush()
        peer.clear()

    def per_task(enqueue) -> float:
        return seconds(lambda: enqueue(tasks)) / tasks * 1e6

    between()
    for warm_up in (ledger.enqueue_one_by_one, bare.enqueue_one_by_one, peer.enqueue_one_by_one):
        warm_up(2)
    between()
    enqueue = rounds(repeats, {"rqledger": lambda: per_task(ledger.enqueue_one_by_one),
                               "bare": lambda: per_task(bare.enqueue_one_by_one),
                               "celery": lambda: per_task(peer.enqueue_one_by_one)}, between)

    def rq_drain(side, simple: bool, processes: int) -> Callable[[], float]:
        def drain() -> float:
            ids = side.enqueue_batch(tasks)
            burst_workers(side, logs, timeout=60 + tasks, simple=simple, processes=processes)
            check_ledger(pair, side, ids)
            return throughput(rq_ends(bare.connection, ids))
        return drain

    def pooled_drain(processes: int) -> Callable[[], float]:
        def drain() -> float:
            ids = ledger.enqueue_batch(tasks)
            run_burst_worker(ledger.worker_command() + ["--concurrency", str(processes)], ledger.worker_env(),
                             logs / f"ledger-pooled-{processes}.log", 60 + tasks)
            check_ledger(pair, ledger, ids)
            return throughput(rq_ends(bare.connection, ids))
        return drain

    def celery_drain(concurrency: int) -> Callable[[], float]:
        return lambda: throughput(peer.drain(peer.enqueue_one_by_one(tasks), concurrency))

    drains = {}
    for processes in (2, 1):
        drains[f"celery {processes}"] = celery_drain(processes)
        drains[f"rqledger pooled {processes}"] = pooled_drain(processes)
        for simple in (False, True):
            drains[f"rqledger {processes} {simple}"] = rq_drain(ledger, simple, processes)
            drains[f"bare {processes} {simple}"] = rq_drain(bare, simple, processes)
    drained = rounds(repeats, drains, between)

    rows = [_row(f"{tasks} tasks one by one: EnqueueTask vs Celery `.delay()`", "µs/task", enqueue, "rqledger",
                 "celery", f"bare RQ Queue.enqueue: {_median(enqueue, 'bare'):,.0f} µs/task")]
    worker = {False: "`rqledger worker --burst`", True: "`rqledger worker --burst --simple`"}
    bare_worker = {False: "`rq worker`", True: "`rq worker` SimpleWorker class"}
    for processes in (2, 1):
        celery_worker = f"`celery worker --pool prefork --concurrency {processes}`"
        rows.append(_row(f"drain {tasks} tasks: `rqledger worker --burst --concurrency {processes}` (pooled) vs "
                         f"{celery_worker}", "jobs/s", drained, f"rqledger pooled {processes}", f"celery {processes}",
                         f"bare RQ {'2x ' if processes == 2 else ''}`rq worker`: "
                         f"{_median(drained, f'bare {processes} False'):,.0f} jobs/s; "
                         "first to last end (RQ ended_at, Celery date_done); higher is better"))
        for simple in (False, True):
            times = "2x " if processes == 2 else ""
            rows.append(_row(f"drain {tasks} tasks: {times}{worker[simple]} vs {celery_worker}", "jobs/s", drained,
                             f"rqledger {processes} {simple}", f"celery {processes}",
                             f"bare RQ {times}{bare_worker[simple]}: "
                             f"{_median(drained, f'bare {processes} {simple}'):,.0f} jobs/s; "
                             "first to last end (RQ ended_at, Celery date_done); higher is better"))
    rows[0].note += "; the 'bare RQ' column is Celery in this section"
    return rows


def _row(metric: str, unit: str, results: list[dict], ours: str, celery: str, note: str) -> Row:
    return compared(SECTION, metric, unit, [(r[ours], r[celery]) for r in results], note=note)


def _median(results: list[dict], name: str) -> float:
    values = sorted(r[name] for r in results)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def rounds(repeats: int, measures: dict[str, Callable[[], float]], between: Callable[[], None]) -> list[dict]:
    """`repeats` rounds of every measure back to back; each round starts one further along the list,
    so that no side always runs first or last on a noisy machine."""
    names = list(measures)
    results = []
    for number in range(repeats):
        shift = number % len(names)
        result = {}
        for name in names[shift:] + names[:shift]:
            result[name] = measures[name]()
            between()
        results.append(result)
    return results


def throughput(ends: list[datetime]) -> float:
    """Jobs per second between the first and the last end: (N - 1) jobs in that time."""
    span = (max(ends) - min(ends)).total_seconds()
    if span <= 0:
        raise BenchmarkFailed(f"{len(ends)} tasks ended within {span} s: too few to measure")
    return (len(ends) - 1) / span


def rq_ends(connection, job_ids: list[str]) -> list[datetime]:
    """When RQ recorded the end of each job; all must have finished."""
    with connection.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.hmget(Job.key_for(job_id), "status", "ended_at")
        rows = pipe.execute()
    unfinished = [row[0] for row in rows if row[0] != b"finished"]
    if unfinished:
        raise BenchmarkFailed(f"{len(unfinished)} of {len(job_ids)} jobs did not finish")
    return [utcparse(row[1].decode()) for row in rows]


class CeleryPeer:
    """Celery on the suite's Redis database and the ledger's database: a client here, workers as processes."""

    def __init__(self, redis_url: str, database_url: str, logs: Path):
        import sqlalchemy as sa
        from celery.backends.database.models import ResultModelBase

        from rqledger.adapters.sqlalchemy.engine import normalize_url
        from benchmarks.celery_app import BACKEND_ENV, BROKER_ENV, make_app

        url = normalize_url(database_url).render_as_string(hide_password=False)
        self.env = {BROKER_ENV: redis_url, BACKEND_ENV: f"db+{url}"}
        self.app = make_app(redis_url, f"db+{url}")
        self.task = self.app.tasks["bench.noop"]
        self.logs = logs
        self.engine = sa.create_engine(url, pool_size=1)  # one connection for the polls, kept open
        self.metadata = ResultModelBase.metadata
        self.metadata.create_all(self.engine)
        self.results = self.metadata.tables["celery_taskmeta"]

    def enqueue_one_by_one(self, count: int) -> list[str]:
        return [self.task.delay().id for _ in range(count)]

    def _declare_queue(self) -> None:
        """The broker's queue and its binding (a flush of the Redis database between rounds removes them; a
        message published to an exchange without a binding would be dropped)."""
        with self.app.connection_for_write() as connection:
            for queue in self.app.amqp.queues.values():
                queue(connection.default_channel).declare()

    def drain(self, ids: list[str], concurrency: int) -> list[datetime]:
        """Starts a prefork worker on the enqueued tasks, waits for it to be ready and for every result to be
        SUCCESS, stops it; the tasks' date_done."""
        import sqlalchemy as sa

        log_path = self.logs / f"celery-worker-{concurrency}.log"
        command = [sys.executable, "-m", "celery", "-A", "benchmarks.celery_app", "worker", "--pool", "prefork",
                   "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-mingle", "--without-gossip",
                   "--hostname", f"bench-{uuid.uuid4().hex[:8]}@%h"]
        count = sa.select(sa.func.count()).where(self.results.c.status == "SUCCESS")
        deadline = time.monotonic() + 60 + len(ids)
        with open(log_path, "ab") as log:
            start = log.tell()
            process = subprocess.Popen(command, env=process_env(self.env), stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
            try:
                self._wait(process, log_path, start, deadline, lambda: b" ready." in _read(log_path, start),
                           "ready")
                self._wait(process, log_path, start, deadline, lambda: self._scalar(count) >= len(ids),
                           f"{len(ids)} SUCCESS results")
            finally:
                _stop(process)
        ends = sa.select(self.results.c.date_done).where(self.results.c.status == "SUCCESS",
                                                         self.results.c.task_id.in_(ids))
        with self.engine.connect() as conn:
            found = [row[0] for row in conn.execute(ends)]
        if len(found) != len(ids):
            raise BenchmarkFailed(f"{len(found)} of {len(ids)} Celery tasks succeeded (log: {log_path})")
        return found

    def _wait(self, process, log_path: Path, start: int, deadline: float, done: Callable[[], bool],
              what: str) -> None:
        while not done():
            if process.poll() is not None:
                raise BenchmarkFailed(f"the Celery worker exited with {process.returncode} before {what}:\n"
                                      f"{_tail(log_path, start)}")
            if time.monotonic() > deadline:
                raise BenchmarkFailed(f"the Celery worker did not reach {what} in time:\n{_tail(log_path, start)}")
            time.sleep(0.1)

    def _scalar(self, statement):
        with self.engine.connect() as conn:
            return conn.execute(statement).scalar()

    def clear(self) -> None:
        """After a flush of the Redis database: no result rows, the broker's queue declared again."""
        with self.engine.begin() as conn:
            conn.execute(self.results.delete())
        self._declare_queue()

    def close(self) -> None:
        try:
            self.metadata.drop_all(self.engine)
        finally:
            self.engine.dispose()
            self.app.close()


def _read(path: Path, start: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(start)
        return handle.read()


def _tail(path: Path, start: int) -> str:
    return "\n".join(_read(path, start).decode(errors="replace").splitlines()[-15:])


def _stop(process: subprocess.Popen) -> None:
    """A warm shutdown (SIGTERM to the main process), then SIGKILL to whatever of its session is left."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
