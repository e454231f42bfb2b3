"""Fixtures for the RQ adapter: a container on real Redis (memory or SQL ledger), and real worker processes."""

from __future__ import annotations

import os

import pytest

from rqledger.entrypoints import runtime
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings
from tests.integration.rq.processes import ROOT, WorkerProcess
from tests.processes import with_kind
from tests.services import private_database

TASK_MODULE = "tests.integration.rq.tasks"

pytestmark = pytest.mark.integration


def settings_env(redis_url: str, **overrides) -> dict:
    env = {"RQLEDGER_QUEUE_BACKEND": "rq", "REDIS_URL": redis_url, "RQLEDGER_TASK_MODULES": TASK_MODULE,
           "RQLEDGER_QUEUES": "default,other", "RQLEDGER_PROGRESS_INTERVAL": "0.5"}
    env.update(overrides)
    return env


@pytest.fixture
def memory_container(redis_url):
    """The whole service in this process on a memory ledger, with RQ on a private Redis database."""
    container = build_container(load_settings(settings_env(redis_url, RQLEDGER_STORAGE="memory")))
    runtime.install(container)
    yield container
    runtime.reset()
    container.rq_connection().close()


@pytest.fixture
def database_url(request, tmp_path):
    """A SQLite file of the test's own; `parametrize("database_url", ["postgresql"], indirect=True)` for PostgreSQL."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        with private_database(kind) as url:
            yield url


@pytest.fixture
def ledger_env(redis_url, database_url):
    """Environment of a service on a SQL ledger (schema migrated) and a private Redis database."""
    from rqledger.adapters.sqlalchemy import upgrade

    upgrade(database_url)
    env = settings_env(redis_url, RQLEDGER_STORAGE="sqlalchemy", DATABASE_URL=database_url)
    return env


@pytest.fixture
def ledger(ledger_env):
    """The client side (enqueue, cancel, read rows) in this process, on the shared SQL ledger."""
    container = build_container(load_settings(ledger_env))
    yield container
    container.rq_connection().close()
    container.database_engine().dispose()


@pytest.fixture
def start_worker(ledger_env, tmp_path):
    """Starts `rqledger worker ARGS...` on the shared ledger; every one is killed at teardown."""
    started: list[WorkerProcess] = []
    env = {**os.environ, **ledger_env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}

    def start(*args: str) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log", *with_kind(args))
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
