"""An in-memory task queue and a worker that drains it through the very same use cases as RQ's."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Collection, Iterable, Sequence

from rqledger.application.errors import QueueUnavailable
from rqledger.application.execution import RunTask
from rqledger.application.ports import Clock
from rqledger.domain.task import PRIORITIES, Priority, Task


@dataclass
class Job:
    task_id: int
    name: str
    queue: str
    eta: datetime
    priority: Priority = Priority.NORMAL


class InMemoryTaskQueue:
    """Jobs wait here until an InMemoryWorker takes them; `available = False` makes it refuse like a dead Redis."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.jobs: list[Job] = []
        self.canceled: set[int] = set()
        self.progress: dict[int, int] = {}
        self.available = True
        self._lock = threading.Lock()

    def enqueue(self, task: Task, delay: float = 0) -> None:
        self.enqueue_many([task], delay=delay)

    def enqueue_many(self, tasks: Sequence[Task], events: Sequence[dict] = (), delay: float = 0) -> list[dict]:
        """`events` are left to the caller: this queue has no channel of its own."""
        if not self.available:
            raise QueueUnavailable("the in-memory queue is switched off")
        eta = self.clock.now() + timedelta(seconds=delay)
        with self._lock:
            for task in tasks:
                self.canceled.discard(task.id)
                self.jobs.append(Job(task.id, task.name, task.queue, eta, task.priority))
        return list(events)

    def cancel(self, task: Task) -> None:
        with self._lock:
            self.jobs = [j for j in self.jobs if j.task_id != task.id]
            self.canceled.add(task.id)

    def live_progress(self, task_ids: Iterable[int]) -> dict[int, int]:
        return {i: self.progress[i] for i in task_ids if i in self.progress}

    def take_due(self, queues: Iterable[str] | None = None, paused: Collection[str] = ()) -> Job | None:
        """The next due job of `queues` (None: all) not in a `paused` queue: the highest priority first
        (as an RQ worker takes them), then the longest due."""
        now = self.clock.now()
        with self._lock:
            for job in sorted(self.jobs, key=lambda j: (PRIORITIES.index(j.priority), j.eta)):
                if job.eta <= now and (queues is None or job.queue in queues) and job.queue not in paused:
                    self.jobs.remove(job)
                    return job
        return None

    def __len__(self) -> int:
        return len(self.jobs)


class InMemoryWorker:
    """Runs due jobs one after the other in the calling thread."""

    def __init__(self, queue: InMemoryTaskQueue, run_task: RunTask, name: str = "memory-worker",
                 queues: Iterable[str] | None = None, paused: Callable[[], Collection[str]] | None = None):
        """`paused`: the paused queues (rqledger.application.queues.PauseWatch.paused), whose jobs wait."""
        self.queue = queue
        self.run_task = run_task
        self.name = name
        self.queues = set(queues) if queues is not None else None
        self.paused = paused or (lambda: ())

    def work(self, burst: bool = True) -> int:
        """Runs every job that is due now; returns how many were taken."""
        taken = 0
        while (job := self.queue.take_due(self.queues, self.paused())) is not None:
            taken += 1
            self.run_task(job.task_id, self.name)
        return taken
