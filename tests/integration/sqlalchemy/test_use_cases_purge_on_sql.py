"""tests/unit/test_purge.py again on SQLite, PostgreSQL and MariaDB; and what a purge leaves in the tables."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rqledger.adapters.sqlalchemy.tables import scheduled_task_runs, scheduled_tasks, task_attempts
from rqledger.adapters.sqlalchemy.tables import tasks as task_rows  # `tasks` is test_purge's fixture
from rqledger.application.purge import PurgeRuns, PurgeTasks
from rqledger.application.registry import TaskRegistry
from rqledger.application.schedules import ScheduleRequest
from rqledger.application.tasks import TaskRequest
from rqledger.domain.retry import Retry
from rqledger.domain.task import TaskStatus
from tests.integration.sqlalchemy.use_case_service import sql_service
from tests.unit.test_purge import *  # noqa: F401,F403 (its tests and fixtures)


@pytest.fixture
def registry():
    return TaskRegistry()


@pytest.fixture
def service(engine, registry):
    return sql_service(engine, registry)


def rows(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar()


def test_purging_tasks_deletes_their_attempts_too(service, tasks, engine):  # noqa: F811 (`tasks` is a fixture)
    service.enqueue(TaskRequest("ok"))
    service.enqueue(TaskRequest("broken", retry=Retry(max=1, interval=(30,))))
    service.worker.work()
    service.clock.advance(60)
    service.worker.work()  # the broken one's retry: its second attempt
    kept = service.enqueue(TaskRequest("ok"))
    service.clock.advance(2 * 86400)
    assert rows(engine, task_attempts) == 3

    assert PurgeTasks(service.uow, service.clock)(timedelta(days=1)) == 2

    assert rows(engine, task_rows) == 1 and rows(engine, task_attempts) == 0
    assert service.get(kept.id).status is TaskStatus.QUEUED


def test_purging_runs_keeps_the_parents_row(service, tasks, engine):  # noqa: F811
    service.register_schedule(ScheduleRequest("ok", at=service.clock.now() + timedelta(seconds=1), interval=60))
    for _ in range(3):
        service.clock.advance(60)
        service.fire_due()
    service.clock.advance(2 * 86400)
    assert rows(engine, scheduled_task_runs) == 3

    assert PurgeRuns(service.uow, service.clock)(timedelta(days=1)) == 3

    assert rows(engine, scheduled_task_runs) == 0 and rows(engine, scheduled_tasks) == 1
