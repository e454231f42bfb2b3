"""The unit of work on SQLAlchemy: one session per `with uow:` and per thread; errors translated at the edge."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from adapters.sqlalchemy.schedule_repository import SqlAlchemyScheduleRepository
from adapters.sqlalchemy.task_repository import SqlAlchemyTaskRepository
from adapters.sqlalchemy.errors import storage_errors
from application.errors import StorageUnavailable


@dataclass
class Transaction:
    """What one open unit of work knows: its session and what it read (for the compare-and-set)."""

    session: Session
    task_versions: dict[int, int] = field(default_factory=dict)
    attempts: dict[int, dict[int, dict]] = field(default_factory=dict)  # task id -> number -> stored values
    schedule_versions: dict[int, int] = field(default_factory=dict)
    run_statuses: dict[int, str] = field(default_factory=dict)

    def forget(self) -> None:
        """After a rollback what was read or written may no longer be what is stored."""
        self.task_versions.clear()
        self.attempts.clear()
        self.schedule_versions.clear()
        self.run_statuses.clear()


class SqlAlchemyUnitOfWork:
    """`with uow:` opens a transaction for this thread; `commit()` makes it durable; leaving rolls back the rest.

    One object is safe to share between threads (each gets its own session);
    `with uow:` does not nest within one thread.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)
        self._local = threading.local()
        self.tasks = SqlAlchemyTaskRepository(self)
        self.schedules = SqlAlchemyScheduleRepository(self)

    def __enter__(self) -> "SqlAlchemyUnitOfWork":
        if getattr(self._local, "transaction", None) is not None:
            raise RuntimeError("`with uow:` is already open in this thread; units of work do not nest")
        self._local.transaction = Transaction(self._sessions())
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        transaction = self._local.transaction
        self._local.transaction = None
        try:
            with storage_errors():
                try:
                    transaction.session.rollback()
                finally:
                    transaction.session.close()
        except StorageUnavailable:
            if exc_type is None:
                raise  # otherwise the error that is already on its way matters more

    def commit(self) -> None:
        transaction = self.transaction()
        try:
            with storage_errors():
                transaction.session.commit()
        except Exception:
            self.rollback()
            raise

    def rollback(self) -> None:
        transaction = self.transaction()
        transaction.forget()
        try:
            with storage_errors():
                transaction.session.rollback()
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
        with storage_errors():
            return self.transaction().session.execute(statement, params)

    @contextmanager
    def savepoint(self):
        """A nested transaction: a refused write inside it leaves the surrounding one usable."""
        with storage_errors():
            nested = self.transaction().session.begin_nested()
        try:
            yield
        except BaseException:
            with storage_errors():
                if nested.is_active:
                    nested.rollback()
            raise
        with storage_errors():
            nested.commit()
