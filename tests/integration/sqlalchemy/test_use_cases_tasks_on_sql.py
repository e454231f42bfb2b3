"""tests/unit/test_tasks.py again, on SQLite, PostgreSQL and MariaDB instead of the memory unit of work."""

import pytest

from rqledger.application.registry import TaskRegistry
from tests.integration.sqlalchemy.use_case_service import sql_service
from tests.unit.test_tasks import *  # noqa: F401,F403 (its tests and fixtures)

# counts the memory store's writes; test_write_budget.py counts the SQL ones
del test_progress_is_throttled_to_far_fewer_writes_than_calls


@pytest.fixture
def registry():
    return TaskRegistry()


@pytest.fixture
def service(engine, registry):
    return sql_service(engine, registry)
