"""How many jobs wait in each queue, for GET /metrics: read from RQ, or from the in-memory queue.

A callable of its own rather than a TaskQueue method: only the metrics page
needs it, and it must answer for queues this process never enqueued to.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from rq import Queue

from adapters.rq.connection import queue_errors


class RqQueueDepth:
    """Waiting jobs per RQ queue: every queue RQ knows of, plus the configured ones (0 when empty)."""

    def __init__(self, connection, queues: Iterable[str] = ("default",)):
        self.connection = connection
        self.queues = tuple(queues)

    def __call__(self) -> dict[str, int]:
        """Raises QueueUnavailable when Redis does not answer."""
        with queue_errors("count the waiting jobs"):
            names = set(self.queues) | {q.name for q in Queue.all(connection=self.connection)}
            pipe = self.connection.pipeline(transaction=False)
            ordered = sorted(names)
            for name in ordered:
                pipe.llen(Queue(name, connection=self.connection).key)
            return dict(zip(ordered, pipe.execute()))


class InMemoryQueueDepth:
    """Waiting jobs per queue of an InMemoryTaskQueue."""

    def __init__(self, queue, queues: Iterable[str] = ("default",)):
        self.queue = queue
        self.queues = tuple(queues)

    def __call__(self) -> dict[str, int]:
        counts = Counter({name: 0 for name in self.queues})
        counts.update(job.queue for job in list(self.queue.jobs))
        return dict(counts)
