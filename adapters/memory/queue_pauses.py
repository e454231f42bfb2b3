"""The QueuePauses port in memory: for the in-memory ledger, `rqledger dev` on memory storage, and unit tests."""

from __future__ import annotations

import threading

from rqledger.application.errors import StorageUnavailable
from rqledger.domain.queue import QueuePause


class InMemoryQueuePauses:
    """`available = False` makes it fail like an unreachable database."""

    def __init__(self):
        self._pauses: dict[str, QueuePause] = {}
        self._lock = threading.Lock()
        self.available = True
        self.reads = 0  # for tests that count them

    def paused(self) -> dict[str, QueuePause]:
        self._check()
        with self._lock:
            self.reads += 1
            return dict(self._pauses)

    def pause(self, pause: QueuePause) -> QueuePause:
        self._check()
        with self._lock:
            return self._pauses.setdefault(pause.queue, pause)

    def resume(self, queue: str) -> QueuePause | None:
        self._check()
        with self._lock:
            return self._pauses.pop(queue, None)

    def _check(self) -> None:
        if not self.available:
            raise StorageUnavailable("the in-memory pauses are switched off")
