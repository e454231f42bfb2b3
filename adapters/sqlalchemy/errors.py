"""SQLAlchemy's exceptions stop here: they become the application's errors before they reach a port."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from rqledger.application.errors import AdapterError, StorageUnavailable


class WriteRefused(AdapterError):
    """The database refused a write on a constraint (unique key, foreign key, value out of range)."""

    def __init__(self, message: str, original: Exception):
        super().__init__(message)
        self.original = original


@contextmanager
def storage_errors():
    """SQLAlchemy's exceptions never cross a port: connection trouble -> StorageUnavailable, and so on."""
    try:
        yield
    except sa_exc.StatementError as exc:
        original = getattr(exc, "orig", None)
        if isinstance(exc, (sa_exc.IntegrityError, sa_exc.DataError)):
            raise WriteRefused(f"the database refused the write: {original}", original) from exc
        if isinstance(exc, sa_exc.DBAPIError):
            raise StorageUnavailable(f"the database failed: {first_line(original)}") from exc
        if isinstance(original, (TypeError, ValueError)):  # a bind value could not be converted
            raise (TypeError if isinstance(original, TypeError) else ValueError)(str(original)) from exc
        raise StorageUnavailable(f"the database failed: {exc}") from exc
    except (sa_exc.DisconnectionError, sa_exc.TimeoutError) as exc:
        raise StorageUnavailable(f"the database cannot be reached: {exc}") from exc


def first_line(error) -> str:
    """The first line of an error's message (a driver's often runs to several), or its type's name."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
