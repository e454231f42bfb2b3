"""The unit of work on SQLAlchemy: one Core connection per `with uow:` and per thread; errors translated at the edge."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc

from rqledger.adapters.sqlalchemy.alert_repository import SqlAlchemyAlertRepository
from rqledger.adapters.sqlalchemy.schedule_repository import SqlAlchemyScheduleRepository
from rqledger.adapters.sqlalchemy.task_repository import SqlAlchemyTaskRepository
from rqledger.adapters.sqlalchemy.errors import storage_errors
from rqledger.application.errors import StorageUnavailable


@dataclass
class Transaction:
    """What one open unit of work knows: its connection (taken at the first statement) and what it read."""

    engine: Engine
    connection: Connection | None = None
    task_versions: dict[int, int] = field(default_factory=dict)
    attempts: dict[int, dict[int, dict]] = field(default_factory=dict)  # task id -> number -> stored values
    schedule_versions: dict[int, int] = field(default_factory=dict)
    run_statuses: dict[int, str] = field(default_factory=dict)
    versions: dict[tuple, int] = field(default_factory=dict)  # (kind, id) -> version read (alerts, deliveries)

    def forget(self) -> None:
        """After a rollback what was read or written may no longer be what is stored."""
        self.versions.clear()
        self.task_versions.clear()
        self.attempts.clear()
        self.schedule_versions.clear()
        self.run_statuses.clear()

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.rollback()
            finally:
                connection.close()


class SqlAlchemyUnitOfWork:
    """`with uow:` opens a transaction for this thread; `commit()` makes it durable; leaving rolls back the rest.

    One object is safe to share between threads (each gets its own connection);
    `with uow:` does not nest within one thread.

    Statements run on a Core Connection (no ORM Session: it cost more CPU than the
    statements themselves). The pool does not ping a connection at checkout (a round
    trip per unit of work); instead the first statement of a unit of work, when it
    finds its pooled connection dead (a database restart, a killed backend), is run
    once more on a fresh connection: nothing was done in that transaction yet.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._local = threading.local()
        self.tasks = SqlAlchemyTaskRepository(self)
        self.schedules = SqlAlchemyScheduleRepository(self)
        self.alerts = SqlAlchemyAlertRepository(self)

    def __enter__(self) -> "SqlAlchemyUnitOfWork":
        if getattr(self._local, "transaction", None) is not None:
            raise RuntimeError("`with uow:` is already open in this thread; units of work do not nest")
        self._local.transaction = Transaction(self.engine)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        transaction = self._local.transaction
        self._local.transaction = None
        try:
            with storage_errors():
                transaction.close()
        except StorageUnavailable:
            if exc_type is None:
                raise  # otherwise the error that is already on its way matters more

    def commit(self) -> None:
        transaction = self.transaction()
        if transaction.connection is None:
            return  # nothing was written
        try:
            with storage_errors():
                transaction.connection.commit()
        except Exception:
            self.rollback()
            raise

    def rollback(self) -> None:
        transaction = self.transaction()
        transaction.forget()
        if transaction.connection is None:
            return
        try:
            with storage_errors():
                transaction.connection.rollback()
        except StorageUnavailable:
            pass  # the connection is gone, and with it the transaction

    # -- for the repositories -----------------------------------------

    def transaction(self) -> Transaction:
        transaction = getattr(self._local, "transaction", None)
        if transaction is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return transaction

    def execute(self, statement, params=None):
        """Runs a Core statement in this thread's transaction, translating errors."""
        transaction = self.transaction()
        with storage_errors():
            if transaction.connection is not None:
                return transaction.connection.execute(statement, params)
            return self._first(transaction, lambda connection: connection.execute(statement, params))

    @contextmanager
    def savepoint(self):
        """A nested transaction: a refused write inside it leaves the surrounding one usable."""
        transaction = self.transaction()
        with storage_errors():
            if transaction.connection is None:
                nested = self._first(transaction, lambda connection: connection.begin_nested())
            else:
                nested = transaction.connection.begin_nested()
        try:
            yield
        except BaseException:
            with storage_errors():
                if nested.is_active:
                    nested.rollback()
            raise
        with storage_errors():
            nested.commit()

    def _first(self, transaction: Transaction, run):
        """The unit's first statement: on a pooled connection found dead, once more on a fresh one."""
        transaction.connection = self.engine.connect()
        try:
            return run(transaction.connection)
        except sa_exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        # SQLAlchemy invalidated the dead connection (and the pool's older ones): start over
        try:
            transaction.connection.close()
        except sa_exc.SQLAlchemyError:
            pass
        transaction.connection = self.engine.connect()
        return run(transaction.connection)
