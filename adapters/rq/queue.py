"""The TaskQueue port on RQ: one ordinary RQ job per task, id = the row's id, JSON-serialized."""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from itertools import groupby
from typing import Iterable, Sequence

from rq import Queue
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from rqledger.adapters.rq.connection import queue_errors
from rqledger.adapters.rq.progress import read_live_progress
from rqledger.domain.task import PRIORITIES, Priority, Task

# The one generic entry every job calls with (task_id, name). A fixed path: a job
# never carries an import path that a request chose.
JOB_FUNC = "rqledger.entrypoints.task_entry.run_task"

_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def job_id(task: Task | int) -> str:
    """The RQ job id of a task: its row id as a string."""
    return str(task.id if isinstance(task, Task) else task)


def rq_queue_name(queue: str, priority: Priority = Priority.NORMAL) -> str:
    """The RQ queue a task's job waits in: each queue is three RQ queues, one per priority. A normal task's
    is the queue's own name (where every job waited before priorities existed); the others `<name>:high`
    and `<name>:low` (RQLEDGER_QUEUES refuses names ending so)."""
    return queue if priority is Priority.NORMAL else f"{queue}:{priority.value}"


def queue_and_priority(rq_name: str) -> tuple[str, Priority]:
    """The queue and priority of an RQ queue's name (rq_queue_name's inverse)."""
    for priority in (Priority.HIGH, Priority.LOW):
        suffix = f":{priority.value}"
        if rq_name.endswith(suffix) and len(rq_name) > len(suffix):
            return rq_name[: -len(suffix)], priority
    return rq_name, Priority.NORMAL


def listening_order(queues: Sequence[str]) -> list[str]:
    """The RQ queues a worker of `queues` listens to, in the order it takes jobs: every queue's high tasks
    first (in the order the queues are given), then their normal ones, then their low ones."""
    return [rq_queue_name(queue, priority) for priority in PRIORITIES for queue in queues]


def describe_call(task: Task, limit: int = 60) -> str:
    """`name(arg, key=value)` with long values shortened: the job description RQ's tools show."""
    def short(value) -> str:
        text = repr(value)
        return text if len(text) <= limit else text[: limit - 3] + "..."
    parts = [short(a) for a in task.args] + [f"{k}={short(v)}" for k, v in task.kwargs.items()]
    return f"{task.name}({', '.join(parts)})"


class RqTaskQueue:
    """Hands tasks to RQ workers, withdraws or stops them, and reads their live progress."""

    def __init__(self, connection, job_func: str = JOB_FUNC, serializer=JSONSerializer, events=None):
        """`events`: a RedisEventPublisher of the same Redis, whose PUBLISHes then travel in the
        enqueue's own pipeline (no round trip of their own); without one they are left to the caller."""
        self.connection = connection
        self.job_func = job_func
        self.serializer = serializer
        self.events = events
        self._queues: dict[str, Queue] = {}

    def queue(self, name: str) -> Queue:
        """The RQ queue of that name on our connection (kept: RQ caches the server version on it)."""
        if name not in self._queues:
            self._queues[name] = Queue(name, connection=self.connection, serializer=self.serializer)
        return self._queues[name]

    def enqueue(self, task: Task, delay: float = 0) -> None:
        if delay <= 0:
            self.enqueue_many([task])
            return
        queue = self.queue(rq_queue_name(task.queue, task.priority))
        # RQ keeps whole seconds and drops the fraction: round up, never run early
        when = datetime.fromtimestamp(math.ceil(time.time() + delay), timezone.utc)
        with queue_errors(f"schedule task {task.id}"):
            with self.connection.pipeline() as pipe:
                self._forget_previous(pipe, queue, task)
                job = queue.create_job(self.job_func, **self._job_options(task))
                queue.schedule_job(job, when, pipeline=pipe)
                pipe.execute()

    def enqueue_many(self, tasks: Sequence[Task], events: Sequence[dict] = ()) -> list[dict]:
        """All jobs in one Redis pipeline (one round trip, applied together), then the events' PUBLISHes."""
        if not tasks:
            return list(events)
        with queue_errors(f"enqueue {_count(tasks)}"):
            with self.connection.pipeline() as pipe:
                def where(task: Task) -> str:
                    return rq_queue_name(task.queue, task.priority)

                for name, group in groupby(sorted(tasks, key=where), key=where):
                    queue = self.queue(name)
                    data = []
                    for task in group:
                        self._forget_previous(pipe, queue, task)
                        data.append(Queue.prepare_data(self.job_func, **self._job_options(task)))
                    queue.enqueue_many(data, pipeline=pipe)
                if self.events is not None and events:
                    self.events.publish_in(pipe, events)
                    events = ()
                pipe.execute()
        return list(events)

    def cancel(self, task: Task) -> None:
        with queue_errors(f"cancel the job of task {task.id}"):
            try:
                job = Job.fetch(job_id(task), connection=self.connection, serializer=self.serializer)
            except NoSuchJobError:
                return
            status = job.get_status(refresh=False)
            try:
                if status == JobStatus.STARTED:
                    send_stop_job_command(self.connection, job.id, serializer=self.serializer)
                elif status in _WAITING:
                    job.cancel()
            except (InvalidJobOperation, NoSuchJobError):
                pass  # it ended (or was canceled) meanwhile: nothing left to withdraw

    def live_progress(self, task_ids: Iterable[int]) -> dict[int, int]:
        found = read_live_progress(self.connection, (job_id(i) for i in task_ids), self.serializer)
        return {int(k): v for k, v in found.items()}

    def _job_options(self, task: Task) -> dict:
        return {
            "args": [task.id, task.name],
            "job_id": job_id(task),
            "timeout": task.timeout,
            "description": describe_call(task),
            "meta": {"task_id": task.id},
        }

    def _forget_previous(self, pipe, queue: Queue, task: Task) -> None:
        # A task that runs again (a user retry) reuses its job id. RQ would overwrite the
        # old hash field by field, keeping stale fields; start from a clean job instead
        # and take the old one out of the failed and canceled lists. A new row (version 0:
        # no transition yet) never had a job, so a batch of new rows costs nothing extra.
        if task.version == 0:
            return
        key = job_id(task)
        pipe.delete(Job.key_for(key))
        pipe.zrem(queue.failed_job_registry.key, key)
        pipe.zrem(queue.canceled_job_registry.key, key)


def _count(tasks: Sequence[Task]) -> str:
    return f"task {tasks[0].id}" if len(tasks) == 1 else f"{len(tasks)} tasks"
