"""Fixtures for the RQ adapter: a container on real Redis (memory or SQL ledger), and real worker processes."""

from __future__ import annotations

import pytest

from entrypoints import runtime
from entrypoints.container import build_container
from entrypoints.settings import load_settings

TASK_MODULE = "tests.integration.rq.tasks"


def settings_for(redis_url: str, **overrides) -> dict:
    env = {"RQLEDGER_QUEUE_BACKEND": "rq", "REDIS_URL": redis_url, "RQLEDGER_TASK_MODULES": TASK_MODULE,
           "RQLEDGER_QUEUES": "default,other", "RQLEDGER_PROGRESS_INTERVAL": "0.5"}
    env.update(overrides)
    return load_settings(env)


@pytest.fixture
def memory_container(redis_url):
    """The whole service in this process on a memory ledger, with RQ on a private Redis database."""
    container = build_container(settings_for(redis_url, RQLEDGER_STORAGE="memory"))
    runtime.install(container)
    yield container
    runtime.reset()
    container.rq_connection().close()
