"""The CLI on the memory adapters: a container, click's runner at a given width, and a worker to drain the queue.

Import the fixtures into a test module: `from tests.unit.cli_harness import cli, container  # noqa: F401`.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from dependency_injector import providers

from rqledger.adapters.memory import FixedClock, InMemoryWorker
from rqledger.entrypoints.cli import main
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc))


@pytest.fixture
def container(clock):
    built = build_container(load_settings({"RQLEDGER_STORAGE": "memory", "RQLEDGER_QUEUE_BACKEND": "memory",
                                           "RQLEDGER_TASK_MODULES": "rqledger.demo"}))
    built.clock.override(providers.Object(clock))
    return built


def invoker(container, columns: int = 200):
    """`invoke(*args)`: runs `rqledger ARGS` on `container`, rich drawing `columns` wide."""
    runner = CliRunner(env={"COLUMNS": str(columns)})

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], obj=container, catch_exceptions=False)

    return invoke


@pytest.fixture
def cli(container):
    return invoker(container)


def work(container) -> int:
    """Runs every due task of the queues that are not paused; returns how many."""
    return InMemoryWorker(container.queue(), container.run_task(), paused=container.queue_pauses().paused).work()
