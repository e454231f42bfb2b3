"""The repository contract runs on every implementation: memory, SQLite, PostgreSQL and MariaDB."""

import pytest

from rqledger.adapters.memory import InMemoryStore, InMemoryUnitOfWork
from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from tests.contract.databases import ledger_databases, sql_params  # noqa: F401 (a fixture)


@pytest.fixture(params=[pytest.param("memory", id="memory"), *sql_params()])
def new_uow(request, ledger_databases):  # noqa: F811
    """Makes units of work on one shared, empty ledger (several may be open at once, as in several processes)."""
    if request.param == "memory":
        store = InMemoryStore()
        return lambda: InMemoryUnitOfWork(store)
    engine = ledger_databases.engine(request.param)
    return lambda: SqlAlchemyUnitOfWork(engine)


@pytest.fixture
def uow(new_uow):
    return new_uow()
