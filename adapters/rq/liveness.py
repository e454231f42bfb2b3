"""Which RQ workers are alive: judged by the age of their last heartbeat, not by their key still existing.

RQ keeps a worker's key for its heartbeat interval + 60 s (job_monitoring_interval
+ 60 while it runs a job), so a SIGKILLed worker looks alive for more than a
minute. LedgerWorker heartbeats `HEARTBEATS_PER_TTL` times per `worker_ttl`
(RQLEDGER_WORKER_TTL), idle or busy, so one whose last heartbeat is older than
`worker_ttl` is gone. This assumes the machines' clocks agree to within a few
seconds (NTP): the worker writes its own time, the reconciler reads it with its.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

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
