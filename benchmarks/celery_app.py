"""The peer: a Celery app as its documentation sets one up, with a Redis broker and the SQLAlchemy result backend.

Both the benchmark (the client that calls `.delay()`) and the worker it starts
(`celery -A benchmarks.celery_app worker ...`) build the app from the environment:

    RQLEDGER_BENCH_CELERY_BROKER   redis://host:port/N (the suite's own Redis database)
    RQLEDGER_BENCH_CELERY_BACKEND  db+<the ledger's SQLAlchemy URL> (the same database server as the ledger)

Results are stored (never ignored), so that Celery writes a committed row per task as
the ledger does. A SQLite result database gets the ledger's connection settings (WAL,
synchronous=NORMAL, a busy timeout): the same durability on the same kind of file.
"""

from __future__ import annotations

import os

from celery import Celery
from sqlalchemy import event

BROKER_ENV = "RQLEDGER_BENCH_CELERY_BROKER"
BACKEND_ENV = "RQLEDGER_BENCH_CELERY_BACKEND"
QUEUE = "bench"


def _sqlite_like_the_ledger(engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def make_app(broker: str, backend: str) -> Celery:
    """The peer's app on these services."""
    peer = Celery("rqledger_bench", broker=broker, backend=backend)
    peer.conf.update(
        task_default_queue=QUEUE,
        task_ignore_result=False,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        database_engine_callback=_sqlite_like_the_ledger,
        worker_hijack_root_logger=True,
    )
    peer.task(name="bench.noop")(noop)
    return peer


def noop() -> None:
    """The trivial job (the same as benchmarks.jobs.noop and benchmarks.tasks.noop)."""
    return None


app = make_app(os.environ.get(BROKER_ENV, "redis://127.0.0.1:6379/0"),
               os.environ.get(BACKEND_ENV, "db+sqlite:///celery-results.db"))
