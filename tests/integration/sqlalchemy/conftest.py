"""Each test here runs on SQLite, PostgreSQL and MariaDB (a session-wide database per kind, empty per test)."""

import pytest

from adapters.sqlalchemy import SqlAlchemyUnitOfWork
from tests.contract.databases import ledger_databases, sql_params  # noqa: F401 (a fixture)


@pytest.fixture(params=sql_params())
def kind(request) -> str:
    return request.param


@pytest.fixture
def engine(kind, ledger_databases):  # noqa: F811
    return ledger_databases.engine(kind)


@pytest.fixture
def uow(engine):
    return SqlAlchemyUnitOfWork(engine)
