"""The live progress channel: a running job's latest value in its RQ job meta, readable by any process.

The ledger row gets progress throttled (rqledger.application.execution.ThrottledProgress);
this channel is the fast one, so `GET /api/tasks/{id}` and the CLI can show a
value that is at most a fraction of a second old.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Iterable

from redis.exceptions import RedisError
from rq.job import Job
from rq.serializers import JSONSerializer

from rqledger.adapters.rq.connection import queue_errors

log = logging.getLogger(__name__)

PROGRESS_KEY = "progress"  # job.meta[PROGRESS_KEY]: the latest percent reported by the running attempt
LIVE_INTERVAL = 0.3


class LiveProgress:
    """Writes the latest percent to `job.meta['progress']` at most every `interval` seconds.

    A value held back by the throttle is written by a timer once the interval is
    up, so the last report of a burst is never lost (a task that reports 50 and
    then works for a minute shows 50, not 49). `on_write(percent)` is called after
    each write, e.g. to publish a change event. Redis errors are logged, never
    raised: progress is a courtesy, the task must go on. Call `close()` when the
    job ends.
    """

    def __init__(self, job: Job, interval: float = LIVE_INTERVAL,
                 on_write: Callable[[int], None] | None = None):
        self.job = job
        self.interval = interval
        self.on_write = on_write
        self.writes = 0
        self._pending: int | None = None
        self._last_write: float | None = None
        self._timer: threading.Timer | None = None
        self._closed = False
        self._lock = threading.Lock()

    def __call__(self, percent: int) -> None:
        with self._lock:
            if self._closed:
                return
            self._pending = percent
            now = time.monotonic()
            if self._last_write is None or now - self._last_write >= self.interval:
                self._write()
            elif self._timer is None:
                self._timer = threading.Timer(self.interval - (now - self._last_write), self._flush)
                self._timer.daemon = True
                self._timer.start()

    def close(self) -> None:
        """Stops the timer; a write in flight completes first. Nothing is written after this."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
            if not self._closed and self._pending is not None:
                self._write()

    def _write(self) -> None:  # called with the lock held
        value, self._pending = self._pending, None
        self._last_write = time.monotonic()
        self.job.meta[PROGRESS_KEY] = value
        try:
            self.job.save_meta()
        except (RedisError, OSError) as exc:
            log.warning("live progress of job %s not saved: %s", self.job.id, exc)
            return
        self.writes += 1
        if self.on_write is not None:
            try:
                self.on_write(value)
            except Exception:  # a listener must never break the task
                log.exception("progress listener of job %s failed", self.job.id)


def read_live_progress(connection, job_ids: Iterable[str], serializer=JSONSerializer) -> dict[str, int]:
    """job id -> latest live percent, for the jobs that reported one; one round trip. Raises QueueUnavailable."""
    ids = list(dict.fromkeys(job_ids))
    if not ids:
        return {}
    with queue_errors("read live progress"):
        with connection.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.hget(Job.key_for(job_id), "meta")
            raw = pipe.execute()
    found = {}
    for job_id, meta in zip(ids, raw):
        if not meta:
            continue
        try:
            value = serializer.loads(meta).get(PROGRESS_KEY)
        except (ValueError, AttributeError, UnicodeDecodeError):
            continue  # not a JSON job of ours
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found[job_id] = int(value)
    return found
