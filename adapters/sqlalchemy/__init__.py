"""The ledger on SQL databases (SQLite, PostgreSQL, MySQL/MariaDB) through SQLAlchemy 2."""

from adapters.sqlalchemy.engine import create_ledger_engine, normalize_url
from adapters.sqlalchemy.migrate import upgrade
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

__all__ = ["create_ledger_engine", "normalize_url", "upgrade", "SqlAlchemyUnitOfWork"]
