"""A worker that rides out a Redis restart instead of quitting, and stays visible as alive afterwards.

RQ's own worker retries its blocking dequeue when Redis is down, but quits on a
Redis error anywhere else in its loop: a heartbeat while a task runs, the state
write after a job, the suspension check. And after a restart without persistence
its registration is gone, so it would look dead to the reconciler while it runs
tasks; RQ's scheduler child (interval retries) dies on the first error and is
started again only at RQ's next maintenance, ten minutes later.
"""

from __future__ import annotations

import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import worker_registration

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class RidesOutRedisOutages:
    """Mixin for an RQ Worker class: bookkeeping writes that fail while Redis is down are logged and
    skipped (the next heartbeat tries again); once Redis answers, the worker registers itself again if
    Redis lost it and restarts its scheduler process if that died."""

    _outage_since: float | None = None
    _registration_checked = 0.0  # monotonic time of the last look at our registration
    REGISTRATION_CHECK_EVERY = 1.0  # seconds: RQ heartbeats several times per job; one look per second will do
    stop_signaled = False  # SIGTERM/SIGINT came: a loop that ends now ended as asked

    def request_stop(self, signum, frame):
        self.stop_signaled = True
        return super().request_stop(signum, frame)

    def heartbeat(self, timeout=None, pipeline=None):
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline=pipeline)
        try:
            super().heartbeat(timeout)
            self._after_contact()
        except REDIS_DOWN as exc:
            self._lost_contact("heartbeat", exc)

    def maintain_heartbeats(self, job, execution):
        try:
            super().maintain_heartbeats(job, execution)
            self._after_contact()
        except REDIS_DOWN as exc:  # the task runs on; its outcome goes to the ledger regardless
            self._lost_contact("heartbeat", exc)

    def set_state(self, state, pipeline=None):
        if pipeline is not None:
            return super().set_state(state, pipeline=pipeline)
        try:
            super().set_state(state)
        except REDIS_DOWN as exc:
            self._state = state
            self._lost_contact("state", exc)

    def check_for_suspension(self, burst):
        try:
            super().check_for_suspension(burst)
        except REDIS_DOWN as exc:  # not suspended as far as we know: the dequeue waits for Redis
            self._lost_contact("suspension check", exc)

    def run_maintenance_tasks(self):
        try:
            super().run_maintenance_tasks()
        except REDIS_DOWN as exc:
            self._lost_contact("maintenance", exc)

    def execute_job(self, job, queue):
        try:
            return super().execute_job(job, queue)
        except REDIS_DOWN as exc:
            # RQ's bookkeeping around the work-horse failed (e.g. reading the job's status after the horse
            # exited): the task's outcome is in the ledger already, or the reconciler takes it from there
            self._lost_contact(f"bookkeeping of job {job.id}", exc)

    def _lost_contact(self, what: str, exc: BaseException) -> None:
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            self.log.warning("Worker %s: Redis is unreachable (%s: %s); carrying on and trying again",
                             self.name, what, exc)

    def _after_contact(self) -> None:
        if self.is_horse or getattr(self, "_stop_requested", False):
            return
        now = time.monotonic()
        if self._outage_since is not None:
            self.log.warning("Worker %s: Redis is back after %.1f s", self.name, now - self._outage_since)
            self._outage_since = None
            self._registration_checked = 0.0  # look now: a restart may have lost it
        if now - self._registration_checked < self.REGISTRATION_CHECK_EVERY:
            return
        self._registration_checked = now
        if not self.connection.sismember(self.redis_workers_keys, self.key):
            self._register_again()
        scheduler = getattr(self, "scheduler", None)
        process = getattr(scheduler, "_process", None)
        if scheduler is not None and process is not None and not process.is_alive():
            self.log.warning("Worker %s: its scheduler process died; starting it again", self.name)
            scheduler.acquire_locks(auto_start=True)

    def _register_again(self) -> None:
        """Redis lost our registration (restarted without persistence): without it we would look dead."""
        with self.connection.pipeline() as pipeline:
            pipeline.hset(self.key, mapping=self.serialize())
            pipeline.hset(self.key, "state", self.get_state())
            worker_registration.register(self, pipeline)
            pipeline.expire(self.key, self.worker_ttl + 60)
            pipeline.execute()
        self.log.warning("Worker %s: registered again (Redis had lost its registration)", self.name)
