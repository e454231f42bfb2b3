"""The queue's view of jobs, for the reconciler, on the in-memory queue; tests can set states by hand."""

from __future__ import annotations

from typing import Iterable

from rqledger.adapters.memory.queue import InMemoryTaskQueue
from rqledger.application.reconcile import JobReport, JobState


class InMemoryJobInspector:
    def __init__(self, queue: InMemoryTaskQueue):
        self.queue = queue
        self.states: dict[int, JobReport] = {}  # what a test says the queue knows beyond its waiting jobs
        self.workers: set[str] | None = set()  # None: liveness cannot be told (as after a Redis restart)
        self.foreign: list[str] = []
        self.released: list[int] = []  # tasks whose abandoned start the reconciler released, in order
        self.running: set[int] = set()  # tasks a process still runs whatever its worker's state (an orphaned work-horse)

    def inspect(self, task_ids: Iterable[int]) -> dict[int, JobReport]:
        waiting = {job.task_id for job in self.queue.jobs}
        reports = {}
        for task_id in task_ids:
            if task_id in self.states:
                reports[task_id] = self.states[task_id]
            elif task_id in waiting:
                reports[task_id] = JobReport(JobState.WAITING)
            else:
                reports[task_id] = JobReport(JobState.MISSING)
        return reports

    def live_workers(self) -> set[str] | None:
        return None if self.workers is None else set(self.workers)

    def still_running(self, task_id: int) -> bool:
        return task_id in self.running

    def foreign_jobs(self, known_ids: set[int]) -> list[str]:
        return list(self.foreign)

    def release_abandoned(self, task_id: int) -> None:
        """Drops a state a test set for the task's job (the queue's own view, e.g. WAITING, shows again)."""
        self.states.pop(task_id, None)
        self.released.append(task_id)
