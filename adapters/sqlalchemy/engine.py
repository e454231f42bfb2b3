"""Engines from a DATABASE_URL: the drivers we ship, and SQLite set up to be shared by several processes."""

from __future__ import annotations

import os
import select
import sqlite3
import time
import weakref
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from rqledger.adapters.sqlalchemy.db_schema import check_schema, ledger_execution_options

SQLITE_BUSY_TIMEOUT_S = 30

# Statements that write: on SQLite the write lock is taken (BEGIN IMMEDIATE) right before the first of them.
_SQLITE_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "CREATE", "DROP", "ALTER")


# Engines of this process, so that a forked child (RQ's work-horse) drops the connections it inherited.
_ENGINES: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def _forget_inherited_connections() -> None:
    """In a forked child: new connections from now on; the parent's stay open for the parent (close=False)."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


def normalize_url(database_url: str | URL) -> URL:
    """Plain postgres://, postgresql:// and mysql:// URLs mapped onto the drivers the base install brings."""
    url = make_url(database_url)
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgres", "postgresql") and driver in ("", "psycopg"):
        url = url.set(drivername="postgresql+psycopg")
    elif backend in ("mysql", "mariadb"):
        if not driver:
            url = url.set(drivername=f"{backend}+pymysql")
        if "charset" not in url.query:
            url = url.update_query_dict({"charset": "utf8mb4"})
    return url


def is_sqlite_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_ledger_engine(database_url: str | URL, durability: str | None = "durable", schema: str | None = None,
                         **options) -> Engine:
    """An engine for the ledger. SQLite: WAL, a busy timeout and foreign keys on; the file's folder is created.

    `schema` (PostgreSQL only; LedgerSchemaRefused elsewhere) puts the ledger's tables in that schema: every
    statement of the engine reaches them there (db_schema.py), and `upgrade()` creates them there.

    durability "fast" trades the last commits before a database crash for speed: PostgreSQL commits
    with synchronous_commit off (no wait for the WAL flush; never corruption), SQLite with
    synchronous=OFF. MySQL/MariaDB have no per-session switch for it: unchanged there.
    """
    url = normalize_url(database_url)
    backend = url.get_backend_name()
    fast = (durability or "durable") == "fast"
    if check_schema(schema, backend):
        options["execution_options"] = {**options.get("execution_options", {}), **ledger_execution_options(schema)}
    if backend == "sqlite":
        return _sqlite_engine(url, fast=fast, **options)
    # No pool_pre_ping (a round trip per checkout). Instead: a pooled connection the server closed (a
    # restart, a killed backend) has something to read, which a poll(0) sees without a round trip; and the
    # unit of work runs its first statement once more on a fresh connection when it finds one dead anyway.
    if backend in ("mysql", "mariadb"):
        # as on PostgreSQL: a compare-and-set that lost re-reads the winner's committed row
        options.setdefault("isolation_level", "READ COMMITTED")
        options.setdefault("pool_recycle", 3600)  # below the server's wait_timeout
    engine = create_engine(url, **options)
    if not options.get("pool_pre_ping"):
        event.listen(engine, "checkout", _closed_by_the_server)
    if fast and backend == "postgresql":
        event.listen(engine, "connect", _asynchronous_commit)
    return _remembered(engine)


def _closed_by_the_server(dbapi_connection, _record, _proxy) -> None:
    """Checkout: an idle connection with something to read was closed by the server (it sent its goodbye
    or EOF); SQLAlchemy's pool then connects afresh. A poll with no timeout: no round trip."""
    try:
        fd = dbapi_connection.fileno() if hasattr(dbapi_connection, "fileno") else dbapi_connection._sock.fileno()
    except Exception:  # closed, or a driver without a socket we know: let the first statement find out
        return
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        raise sa_exc.DisconnectionError("the database closed this pooled connection")


def _asynchronous_commit(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET synchronous_commit TO off")
    finally:
        cursor.close()
    dbapi_connection.commit()


def _remembered(engine: Engine) -> Engine:
    _ENGINES.add(engine)
    return engine


def _sqlite_engine(url: URL, fast: bool = False, **options) -> Engine:
    connect_args = options.pop("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
    connect_args.setdefault("check_same_thread", False)
    # The driver's own transaction handling is switched off; `_begin_before_first_write` does it instead.
    connect_args["isolation_level"] = None
    if is_sqlite_memory(url):
        options.setdefault("poolclass", StaticPool)  # one shared connection, else every checkout is a new database
    elif url.database:
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args=connect_args, **options)
    event.listen(engine, "connect", _configure_sqlite_connection)
    if fast:
        event.listen(engine, "connect", _unsynchronized)
    event.listen(engine, "before_cursor_execute", _begin_before_first_write)
    return _remembered(engine)


def _configure_sqlite_connection(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        _write_ahead_log(cursor)
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")  # ON DELETE CASCADE of runs and attempts
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL's safe setting: a crash of the process loses nothing
    finally:
        cursor.close()


def _write_ahead_log(cursor) -> None:
    """WAL: readers never wait for the writer, so a web process and workers can share the file.

    Switching a new file to WAL needs a lock for which SQLite does not wait (no busy handler): a process
    that opens the file while another holds it (several starting at once on a new file) is told "database
    is locked" at once. It tries again, for as long as the busy timeout would have waited.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _unsynchronized(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")  # after the NORMAL of _configure_sqlite_connection


def _begin_before_first_write(conn, cursor, statement, parameters, context, executemany) -> None:
    """SQLite: reads run outside a transaction; the first write of a unit of work opens one with BEGIN IMMEDIATE.

    A transaction that read first and writes later fails at once with "database is
    locked" when another process wrote in between (a stale WAL snapshot; the busy
    timeout does not help). Taking the write lock right before the first write makes
    writers queue behind each other for up to the busy timeout instead, while reads
    never wait. Rows read before the first write may be stale: the compare-and-set on
    `version` in the UPDATE catches that, as it does on PostgreSQL and MariaDB.
    """
    dbapi_connection = conn.connection.dbapi_connection
    if dbapi_connection.in_transaction:
        return
    if statement.lstrip()[:9].upper().startswith(_SQLITE_WRITES):
        dbapi_connection.execute("BEGIN IMMEDIATE")
