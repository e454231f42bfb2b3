"""GET /api/health: can this process reach the ledger database and Redis right now?"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from rqledger.application.errors import AdapterError
from rqledger.application.ports import TaskQuery, UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class Health:
    uow: UnitOfWork
    redis_check: Callable[[], None]

    def __call__(self) -> tuple[dict, bool]:
        """A report {"status", "database", "redis"} and whether everything is up."""
        database = _probe(self._read_database)
        redis = _probe(self.redis_check)
        ok = database == "ok" and redis == "ok"
        return {"status": "ok" if ok else "unavailable", "database": database, "redis": redis}, ok

    def _read_database(self) -> None:
        with self.uow:
            self.uow.tasks.list(TaskQuery(limit=1))


def without_details(report: dict) -> dict:
    """The report a stranger sees: what is down, not why (a driver's error names hosts, ports and roles)."""
    return {key: value.partition(":")[0] for key, value in report.items()}


def _probe(check: Callable[[], None]) -> str:
    try:
        check()
    except AdapterError as exc:
        return f"unavailable: {exc}"
    except Exception as exc:  # a health check answers, whatever broke
        log.exception("health probe failed")
        return f"unavailable: {type(exc).__name__}: {exc}"
    return "ok"
