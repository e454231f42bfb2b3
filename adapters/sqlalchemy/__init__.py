"""The ledger on SQL databases (SQLite, PostgreSQL, MySQL/MariaDB) through SQLAlchemy 2.

- Mapping: mapped row classes (tables.py) that the domain never sees; the
  repositories use Core statements and convert rows to entities explicitly
  (conversion.py).
- Concurrency: every save of a task or schedule is a compare-and-set,
  `UPDATE ... WHERE id = :id AND version = :version_read`; no row matched means
  another writer won, and the loser gets ConcurrentUpdate naming the row's
  current status. A run's save is guarded by the status it was read with.
  Progress is a narrow UPDATE guarded by status and attempt number.
- Listing: keyset pagination, newest first (`id < :cursor ORDER BY id DESC
  LIMIT :limit + 1`), on indexes (status, id), (name, id), (owner, id).
- Numbers (GET /metrics): GROUP BY queries in statistics.py, attempt durations
  bucketed in the database in whole microseconds; a scrape reads a few rows.
- Schema: Alembic migrations shipped in this package; `upgrade()` applies them. Every table is
  prefixed `rqledger_` and the history kept in `rqledger_alembic_version`, so the ledger can share
  an app's database; on PostgreSQL it may live in a schema of its own (db_schema.py), which a
  connection the ledger did not make reaches with `ledger_execution_options(schema)`.
"""

from rqledger.adapters.sqlalchemy.db_schema import LedgerSchemaRefused, ledger_execution_options
from rqledger.adapters.sqlalchemy.engine import create_ledger_engine, normalize_url
from rqledger.adapters.sqlalchemy.migrate import upgrade
from rqledger.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

__all__ = ["create_ledger_engine", "normalize_url", "upgrade", "SqlAlchemyUnitOfWork", "ledger_execution_options",
           "LedgerSchemaRefused"]
