"""Fixtures of the scheduling tests: a real Redis database of the test's own, and the pieces that use it."""

from __future__ import annotations

import pytest
import redis as redis_lib
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

from rqledger.entrypoints import runtime
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings

TASK_MODULES = "tests.integration.scheduling.tasks"

pytestmark = pytest.mark.integration


@pytest.fixture
def redis(redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def ledger(redis_url):
    """A container on the memory ledger and the real Redis, installed as this process's worker runtime."""
    container = build_container(load_settings({
        "RQLEDGER_STORAGE": "memory", "REDIS_URL": redis_url, "RQLEDGER_TASK_MODULES": TASK_MODULES,
    }))
    runtime.install(container)
    yield container
    runtime.reset()


@pytest.fixture
def work(redis):
    """Runs every queued job in this process (no fork), like a burst worker would."""

    def work_off(queue: str = "default") -> bool:
        q = Queue(queue, connection=redis, serializer=JSONSerializer)
        return SimpleWorker([q], connection=redis, serializer=JSONSerializer).work(burst=True)

    return work_off
