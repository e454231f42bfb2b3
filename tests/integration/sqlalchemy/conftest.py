"""Each test here runs on SQLite, PostgreSQL and MariaDB (a session-wide database per kind, empty per test)."""

import pytest

from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from tests.contract.databases import empty_database, ledger_databases, sql_params  # noqa: F401 (a fixture)


@pytest.fixture(params=sql_params())
def kind(request) -> str:
    return request.param


@pytest.fixture
def engine(kind, ledger_databases):  # noqa: F811
    return ledger_databases.engine(kind)


@pytest.fixture
def uow(engine):
    return SqlAlchemyUnitOfWork(engine)


@pytest.fixture
def empty_url(kind, tmp_path) -> str:
    """A database of that kind with nothing in it, of this test's own (not migrated; dropped afterwards)."""
    with empty_database(kind, tmp_path) as url:
        yield url
