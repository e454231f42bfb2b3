"""Which RQ workers are alive: judged by the age of their last heartbeat, not by their key still existing.

RQ keeps a worker's key for its heartbeat interval + 60 s (job_monitoring_interval
+ 60 while it runs a job), so a SIGKILLed worker looks alive for more than a
minute. LedgerWorker heartbeats `HEARTBEATS_PER_TTL` times per `worker_ttl`
(RQLEDGER_WORKER_TTL), idle or busy, so one whose last heartbeat is older than
`worker_ttl` is gone. This assumes the machines' clocks agree to within a few
seconds (NTP): the worker writes its own time, the reconciler reads it with its.

A work-horse signs for its task on its own (LifeSign, below): a worker's death does not
end the task its orphaned work-horse still runs.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Iterable

from rq import Worker

HEARTBEATS_PER_TTL = 4


def heartbeat_interval(worker_ttl: float) -> int:
    """Seconds between a LedgerWorker's heartbeats for a given liveness period (whole seconds, at least 1)."""
    return max(1, int(worker_ttl // HEARTBEATS_PER_TTL))


def rq_worker_options(worker_ttl: float) -> dict:
    """Worker(...) keyword arguments that make RQ heartbeat every heartbeat_interval(worker_ttl) seconds.

    Busy, RQ heartbeats every `job_monitoring_interval`; idle, after each blocking
    dequeue, which lasts `worker_ttl - 15` (RQ's own arithmetic).
    """
    every = heartbeat_interval(worker_ttl)
    return {"worker_ttl": every + 15, "job_monitoring_interval": every}


def live_worker_names(connection, worker_ttl: float, now: datetime | None = None) -> set[str] | None:
    """Registered workers whose last heartbeat is at most `worker_ttl` seconds old. Raises redis errors.

    None while that cannot be told: Redis restarted less than `worker_ttl` seconds ago
    (without persistence the live workers have not all registered again yet).
    """
    uptime = connection.info("server").get("uptime_in_seconds")
    if uptime is not None and float(uptime) < worker_ttl:
        return None
    now = now or datetime.now(timezone.utc)
    oldest = now - timedelta(seconds=worker_ttl)
    return {worker.name for worker in Worker.all(connection=connection)
            if worker.last_heartbeat is not None and worker.last_heartbeat >= oldest}


# -- a work-horse's own sign of life -----------------------------------------------------------------
#
# A forked work-horse outlives a SIGKILLed worker and still writes its task's outcome itself, so the
# worker's heartbeat says nothing about whether the task still runs. Each work-horse of a task keeps
# a sign of its own: a member of the sorted set `rqledger:running:<task id>` whose score is the time
# of its last renewal. The worker writes it before the fork (before the attempt can start anywhere);
# the work-horse renews it from a thread every heartbeat interval and removes it once its outcome is
# written and RQ told. A sign older than `worker_ttl` is a dead work-horse's, as for heartbeats.


def _running_key(task_id: int) -> str:
    return f"rqledger:running:{task_id}"


def running_tasks(connection, task_ids: Iterable[int], worker_ttl: float, now: float | None = None) -> set[int]:
    """Those of `task_ids` that a work-horse signed for within the last `worker_ttl` seconds. Raises redis errors."""
    ids = list(task_ids)
    if not ids:
        return set()
    oldest = (time.time() if now is None else now) - worker_ttl
    with connection.pipeline(transaction=False) as pipeline:
        for task_id in ids:
            pipeline.zcount(_running_key(task_id), oldest, "+inf")
        counts = pipeline.execute()
    return {task_id for task_id, count in zip(ids, counts) if count}


class LifeSign:
    """One work-horse's sign of life for its task (see above): `sign()` in the worker before the fork,
    `keep_up(...)` first thing in the work-horse, `end()` when the work-horse is done with the job.

    A work-horse past its deadline (the job's timeout + 60 s, when RQ's worker would have killed
    it, + two intervals) SIGKILLs itself: nobody else would once its worker is gone, and the
    reconciler waits for its sign. Redis errors are logged, never raised: the next renewal tries again.
    """

    def __init__(self, connection, task_id: int, token: str, every: float, log: logging.Logger | None = None):
        self.connection = connection
        self.task_id = task_id
        self.token = token
        self.every = max(0.1, float(every))
        self.log = log or logging.getLogger("rqledger.worker")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def sign(self) -> None:
        try:
            with self.connection.pipeline(transaction=False) as pipeline:
                pipeline.zadd(_running_key(self.task_id), {self.token: time.time()})
                # only a bound for Redis's memory: the reconciler reads the score's age, never this
                pipeline.expire(_running_key(self.task_id), int(self.every * HEARTBEATS_PER_TTL) + 60)
                pipeline.execute()
            if self._failing:
                self._failing = False
                self.log.warning("task %s: its work-horse's sign of life is written again", self.task_id)
        except Exception as exc:
            if not self._failing:
                self._failing = True
                self.log.warning("task %s: its work-horse's sign of life not written (%s); trying again in %g s",
                                 self.task_id, exc, self.every)

    def keep_up(self, limit: float | None, on_overdue=None) -> None:
        """Renews the sign every interval from a thread; after `limit` seconds (None: never) calls `on_overdue`
        (default: SIGKILL this process) instead."""
        deadline = None if limit is None else time.monotonic() + limit
        self._thread = threading.Thread(target=self._renew, args=(deadline, on_overdue or _kill_myself),
                                        name=f"life-sign-{self.task_id}", daemon=True)
        self._thread.start()

    def end(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            self.connection.zrem(_running_key(self.task_id), self.token)
        except Exception as exc:  # left to go stale: the reconciler then judges by the worker alone
            self.log.warning("task %s: its work-horse's sign of life not removed (%s)", self.task_id, exc)

    def _renew(self, deadline: float | None, on_overdue) -> None:
        while not self._stop.wait(self.every):
            if deadline is not None and time.monotonic() > deadline:
                self.log.error("task %s: its work-horse overran the job's timeout by more than 60 s; it is killed",
                               self.task_id)
                on_overdue()
                return
            self.sign()


def _kill_myself() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
