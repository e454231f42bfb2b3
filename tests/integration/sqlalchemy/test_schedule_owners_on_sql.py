"""tests/unit/test_schedule_owners.py again, on SQLite, PostgreSQL and MariaDB instead of the memory unit of work."""

import pytest

from rqledger.application.registry import TaskRegistry
from tests.integration.sqlalchemy.use_case_service import sql_service
from tests.unit.test_schedule_owners import *  # noqa: F401,F403 (its tests and fixtures)


@pytest.fixture
def registry():
    return TaskRegistry()


@pytest.fixture
def service(engine, registry):
    return sql_service(engine, registry)
