"""A unit of work inside a caller's own transaction: the app's Connection or ORM Session writes the ledger's rows.

`commit()` commits nothing: the caller's transaction does, or its rollback takes the rows
with it. What must wait for that commit (handing the job to Redis) is given to
`after_commit`; a process that dies in between leaves a queued row without a job, which
the reconciler enqueues once its grace has passed.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import Callable

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, scoped_session

from rqledger.adapters.sqlalchemy.errors import storage_errors
from rqledger.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork, Transaction

log = logging.getLogger(__name__)

# How long a Connection's hand-off waits for its rows to be visible after the commit began.
VISIBILITY_WAIT_S = 10.0
_PENDING = "rqledger_after_commit"


class JoinedUnitOfWork(SqlAlchemyUnitOfWork):
    """The ledger's repositories on `joined` (a SQLAlchemy Connection, or a Session whose connection is used)."""

    def __init__(self, joined: Connection | Session | scoped_session, execution_options: dict | None = None):
        if isinstance(joined, scoped_session):
            joined = joined()  # Flask-SQLAlchemy's db.session: this thread's Session
        if not isinstance(joined, (Connection, Session)):
            raise TypeError(f"connection= takes a SQLAlchemy Connection or Session, not {type(joined).__name__}")
        self.joined = joined
        self.execution_options = dict(execution_options or {})
        super().__init__(self.connection().engine)

    def connection(self) -> Connection:
        """The connection of the caller's transaction (a Session begins one if it has none yet)."""
        return self.joined.connection() if isinstance(self.joined, Session) else self.joined

    def __enter__(self) -> "JoinedUnitOfWork":
        if getattr(self._local, "transaction", None) is not None:
            raise RuntimeError("`with uow:` is already open in this thread; units of work do not nest")
        self._local.transaction = Transaction(self.engine, connection=self.connection())
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._local.transaction = None  # the caller's connection stays open: the caller ends its transaction

    def commit(self) -> None:
        """Nothing to do: the caller commits (or rolls back) the whole transaction."""

    def rollback(self) -> None:
        self.transaction().forget()

    def execute(self, statement, params=None):
        with storage_errors():
            return self.transaction().connection.execute(statement, params,
                                                         execution_options=self.execution_options)

    @contextmanager
    def savepoint(self):
        """A savepoint inside the caller's transaction; on SQLite that transaction is begun for real first.

        Python's sqlite3 sends BEGIN only before its first INSERT/UPDATE/DELETE: a SAVEPOINT sent
        before that opens the transaction itself, and its RELEASE then COMMITS it, so the app's
        rollback would no longer take the row away (the ledger's own engine begins before any
        write, SAVEPOINT included: adapters.sqlalchemy.engine)."""
        connection = self.transaction().connection
        if connection.dialect.name == "sqlite":
            with storage_errors():
                if not connection.connection.dbapi_connection.in_transaction:
                    connection.exec_driver_sql("BEGIN")
        with super().savepoint():
            yield

    def after_commit(self, callback: Callable[[], None], visible: Callable[[], bool]) -> None:
        """Runs `callback` once the caller's transaction committed; never when it rolls back.

        A Session says when it committed (after_commit): `callback` runs right then, in the
        committing thread. A Connection only says that a commit begins: a thread waits until
        `visible()` (the rows, read through the ledger's own connection) before `callback`.
        Errors of `callback` are logged, not raised: the caller's commit already happened.
        """
        if isinstance(self.joined, Session):
            _after_session_commit(self.joined, lambda: _logged(callback))
        else:
            _after_connection_commit(self.joined, lambda: threading.Thread(
                target=_when_visible, args=(visible, callback), name="rqledger-hand-off", daemon=True).start())


def _after_session_commit(session: Session, callback: Callable[[], None]) -> None:
    """One pair of listeners per Session, kept for its life; the callbacks wait in session.info."""
    session.info.setdefault(_PENDING, []).append(callback)
    if not event.contains(session, "after_commit", _session_committed):
        event.listen(session, "after_commit", _session_committed)
        event.listen(session, "after_soft_rollback", _session_rolled_back)


def _session_committed(session: Session) -> None:
    root = session.get_transaction()
    if root is None or not root.is_active:  # the root's commit, not a savepoint's release
        for callback in _take(session.info):
            callback()


def _session_rolled_back(session: Session, previous) -> None:
    if previous.parent is None and not previous.nested:
        _take(session.info)


def _after_connection_commit(connection: Connection, callback: Callable[[], None]) -> None:
    """One pair of listeners per Connection; the callbacks wait in connection.info."""
    connection.info.setdefault(_PENDING, []).append(callback)
    if not event.contains(connection, "commit", _connection_committing):
        event.listen(connection, "commit", _connection_committing)
        event.listen(connection, "rollback", _connection_rolled_back)


def _connection_committing(connection: Connection) -> None:
    for callback in _take(connection.info):
        callback()


def _connection_rolled_back(connection: Connection) -> None:
    _take(connection.info)


def _take(info: dict) -> list:
    pending = info.get(_PENDING) or []
    info[_PENDING] = []
    return pending


def _when_visible(visible: Callable[[], bool], callback: Callable[[], None]) -> None:
    deadline = time.monotonic() + VISIBILITY_WAIT_S
    pause = 0.002
    while True:
        try:
            if visible():
                _logged(callback)
                return
        except Exception as exc:  # the ledger's database is away: the reconciler hands the row over later
            log.warning("rqledger: could not check a committed task row (%s); the reconciler will enqueue it", exc)
            return
        if time.monotonic() >= deadline:
            return  # the commit failed, or was rolled back: there is nothing to hand over
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _logged(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception as exc:
        log.warning("rqledger: the committed task could not be handed to the queue (%s); it stays queued "
                    "and the reconciler enqueues it", exc)
