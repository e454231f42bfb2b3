"""How many jobs wait in each queue, for GET /metrics: read from RQ, or from the in-memory queue.

A callable of its own rather than a TaskQueue method: only the metrics page
needs it, and it must answer for queues this process never enqueued to.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from rq import Queue

from rqledger.adapters.rq.connection import queue_errors
from rqledger.adapters.rq.queue import queue_and_priority, rq_queue_name
from rqledger.domain.task import PRIORITIES


class RqQueueDepth:
    """Waiting jobs per queue: every queue RQ knows of, plus the configured ones (0 when empty); a queue's
    high, normal and low RQ queues (rqledger.adapters.rq.queue.rq_queue_name) count as one."""

    def __init__(self, connection, queues: Iterable[str] = ("default",)):
        self.connection = connection
        self.queues = tuple(queues)

    def __call__(self) -> dict[str, int]:
        """Raises QueueUnavailable when Redis does not answer."""
        return {name: sum(levels.values()) for name, levels in self.by_priority().items()}

    def by_priority(self) -> dict[str, dict[str, int]]:
        """queue -> {"high": n, "normal": n, "low": n}. Raises QueueUnavailable."""
        with queue_errors("count the waiting jobs"):
            names = {q.name for q in Queue.all(connection=self.connection)}
            names.update(rq_queue_name(queue, priority) for queue in self.queues for priority in PRIORITIES)
            pipe = self.connection.pipeline(transaction=False)
            ordered = sorted(names)
            for name in ordered:
                pipe.llen(Queue(name, connection=self.connection).key)
            counts: dict[str, dict[str, int]] = {}
            for name, waiting in zip(ordered, pipe.execute()):
                queue, priority = queue_and_priority(name)
                levels = counts.setdefault(queue, {p.value: 0 for p in PRIORITIES})
                levels[priority.value] += waiting
            return dict(sorted(counts.items()))


class InMemoryQueueDepth:
    """Waiting jobs per queue of an InMemoryTaskQueue."""

    def __init__(self, queue, queues: Iterable[str] = ("default",)):
        self.queue = queue
        self.queues = tuple(queues)

    def __call__(self) -> dict[str, int]:
        counts = Counter({name: 0 for name in self.queues})
        counts.update(job.queue for job in list(self.queue.jobs))
        return dict(counts)

    def by_priority(self) -> dict[str, dict[str, int]]:
        counts = {name: {p.value: 0 for p in PRIORITIES} for name in self.queues}
        for job in list(self.queue.jobs):
            counts.setdefault(job.queue, {p.value: 0 for p in PRIORITIES})[job.priority.value] += 1
        return dict(sorted(counts.items()))
