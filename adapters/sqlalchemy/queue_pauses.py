"""The QueuePauses port on the ledger's database: one row per paused queue (rqledger_queue_pauses)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy import exc as sa_exc

from rqledger.adapters.sqlalchemy.errors import storage_errors
from rqledger.adapters.sqlalchemy.tables import queue_pauses
from rqledger.domain.queue import QueuePause


class SqlQueuePauses:
    """Each call is a short transaction of its own (pauses are rare; workers read them at most once a second)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def paused(self) -> dict[str, QueuePause]:
        with storage_errors(), self.engine.connect() as connection:
            return {row.queue: _pause(row) for row in connection.execute(select(queue_pauses))}

    def pause(self, pause: QueuePause) -> QueuePause:
        with storage_errors():
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(queue_pauses).values(
                        queue=pause.queue, paused_at=pause.paused_at, paused_by=pause.by, reason=pause.reason))
                return pause
            except sa_exc.IntegrityError:  # paused already (perhaps a moment ago, by another client)
                with self.engine.connect() as connection:
                    row = connection.execute(select(queue_pauses).where(queue_pauses.c.queue == pause.queue)).first()
                return _pause(row) if row is not None else self.pause(pause)  # resumed meanwhile: pause it

    def resume(self, queue: str) -> QueuePause | None:
        with storage_errors(), self.engine.begin() as connection:
            row = connection.execute(select(queue_pauses).where(queue_pauses.c.queue == queue)).first()
            if row is None:
                return None
            connection.execute(delete(queue_pauses).where(queue_pauses.c.queue == queue))
            return _pause(row)


def _pause(row) -> QueuePause:
    return QueuePause(row.queue, row.paused_at, row.paused_by, row.reason)
