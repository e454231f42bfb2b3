"""GET /metrics on SQLite, PostgreSQL and MariaDB: the unit tests of the endpoint again, and what a scrape costs."""

import pytest

from rqledger.application.metrics import ReadLedgerStatistics
from rqledger.domain.schedule import ScheduledTaskInstance
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings
from tests.contract.builders import a_schedule, a_task, later
from tests.integration.sqlalchemy.test_write_budget import statements
from tests.unit.test_metrics_endpoint import *  # noqa: F401,F403 (its tests and helpers)

del test_needs_the_token_when_one_is_set  # about the web app, not the ledger: once (in tests/unit) is enough


@pytest.fixture
def container(kind, engine, ledger_databases):  # noqa: F811 (ledger_databases is a fixture)
    """The unit tests' container with the SQL ledger of `kind` (emptied by `engine`) instead of memory."""
    container = build_container(load_settings({
        "RQLEDGER_STORAGE": "sqlalchemy", "DATABASE_URL": ledger_databases.url(kind),
        "RQLEDGER_QUEUE_BACKEND": "memory", "RQLEDGER_QUEUES": "default,mail",
        "RQLEDGER_TASK_MODULES": "rqledger.demo"}))
    yield container
    container.database_engine().dispose()


def ledger_of(uow, tasks: int, schedules: int, runs: int) -> None:
    with uow:
        for n in range(tasks):
            task = uow.tasks.add(a_task(f"job{n % 3}"))
            task.start("w", later(n))
            task.finish(None, later(n + 0.5)) if n % 2 else task.fail("boom", later(n + 40))
            uow.tasks.save(task)
        for s in range(schedules):
            schedule = uow.schedules.add(a_schedule(args=[s]))
            for r in range(runs):
                uow.schedules.add_run(ScheduledTaskInstance(schedule.id, later(60 * r), later(60 * r)))
        uow.commit()


@pytest.mark.parametrize("size", [(3, 1, 1), (120, 4, 30)])
def test_reading_the_ledgers_numbers_is_four_selects_whatever_its_size(uow, engine, size):
    ledger_of(uow, *size)
    with statements(engine) as seen:
        statistics = ReadLedgerStatistics(uow)()
    assert sum(seen.values()) == 4, seen
    tasks, schedules, runs = size
    assert sum(statistics.tasks.values()) == tasks
    assert sum(h.count for h in statistics.durations.values()) == tasks
    assert sum(statistics.runs.values()) == schedules * runs
