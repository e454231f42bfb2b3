"""tests/unit/test_schedules.py again, on SQLite, PostgreSQL and MariaDB instead of the memory unit of work."""

import pytest

from rqledger.application.registry import TaskRegistry
from tests.integration.sqlalchemy.use_case_service import sql_service
from tests.unit.test_schedules import *  # noqa: F401,F403 (its tests and fixtures)

# looks into the memory store; test_cascades.py and the contract suite cover it
del test_delete_removes_the_parent_and_its_runs


@pytest.fixture
def registry():
    return TaskRegistry()


@pytest.fixture
def service(engine, registry):
    return sql_service(engine, registry)
