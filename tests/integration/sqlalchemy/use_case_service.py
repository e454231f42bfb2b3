"""The unit tests' `service` (every use case wired together), but on a SQL unit of work."""

from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from tests.unit.conftest import Service, build_service


def sql_service(engine, registry) -> Service:
    return build_service(lambda: SqlAlchemyUnitOfWork(engine), registry)
