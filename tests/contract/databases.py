"""Ledger databases for tests: one per kind and test session, migrated to head, wiped between tests.

Creating a PostgreSQL or MariaDB database per test is slow; each test instead
starts from empty tables (`wipe`) in a database that lives for the session.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager

import pytest
from sqlalchemy import Engine, text

from rqledger.adapters.sqlalchemy import create_ledger_engine, upgrade
from tests.services import private_database

SQL_KINDS = ("sqlite", "postgresql", "mysql")
# children first: they reference their parents
TABLES = ("rqledger_task_attempts", "rqledger_scheduled_task_runs", "rqledger_tasks",
          "rqledger_scheduled_tasks", "rqledger_queue_pauses", "rqledger_alert_deliveries", "rqledger_alerts")


@contextmanager
def empty_database(kind: str, folder):
    """Yields the URL of an empty database of that kind, of this caller's own; removes it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'empty.db'}"
        return
    with private_database(kind) as url:
        yield url


@contextmanager
def ledger_database(kind: str, folder):
    """Yields the URL of an empty, migrated ledger database of that kind; removes it afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'ledger.db'}"
        upgrade(url)
        yield url
        return
    with private_database(kind) as url:
        upgrade(url)
        yield url


def wipe(engine: Engine) -> None:
    """Empties the tables and restarts their ids at 1, as in a new database."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        elif engine.dialect.name in ("mysql", "mariadb"):
            connection.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
            for table in TABLES:
                connection.execute(text(f"TRUNCATE TABLE {table}"))
            connection.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
        else:  # SQLite: a rowid id starts again after the largest one left, so after 0 at 1
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))


class LedgerDatabases:
    """Creates each kind's database on first use (skipping when its server is not reachable)."""

    def __init__(self, tmp_path_factory):
        self._tmp = tmp_path_factory
        self._stack = ExitStack()
        self._urls: dict[str, str] = {}
        self._engines: dict[str, Engine] = {}

    def url(self, kind: str) -> str:
        if kind not in self._urls:
            self._urls[kind] = self._stack.enter_context(ledger_database(kind, self._tmp.mktemp(kind)))
        return self._urls[kind]

    def engine(self, kind: str) -> Engine:
        """The kind's engine, with empty tables."""
        if kind not in self._engines:
            engine = create_ledger_engine(self.url(kind))
            self._stack.callback(engine.dispose)  # before the database is dropped (last in, first out)
            self._engines[kind] = engine
        wipe(self._engines[kind])
        return self._engines[kind]

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def ledger_databases(tmp_path_factory):
    databases = LedgerDatabases(tmp_path_factory)
    yield databases
    databases.close()


def sql_params(*kinds: str):
    """pytest params for SQL kinds; the server-backed ones are marked `integration`."""
    return [pytest.param(kind, marks=() if kind == "sqlite" else pytest.mark.integration, id=kind)
            for kind in (kinds or SQL_KINDS)]
