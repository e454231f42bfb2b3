"""End-to-end latency: from just before the enqueue call to "finished", one task at a time, running workers.

Two workers run the whole section (started before, stopped after, never --burst):
`rqledger worker --concurrency 1` (the default kind, one process) on the ledger's queue and
`rq worker` (forking, RQ's default) on a queue of its own, so that neither takes the other's jobs. Tasks go one at a time, alternating
sides. This process polls the job's status in Redis every 2 ms (one HGET) until
it is finished, then reads the end time (rqledger: if the row has no end yet, as
when the outcome is written after RQ's status, the row is read again every 2 ms): rqledger's is the row's ended_at (the
ledger's clock), bare RQ's is the job's ended_at (RQ's); both are the wall clock of
this machine, so each latency is that end minus the wall clock read right before
the enqueue call. The poll only decides when to look; it is not in the figure.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from contextlib import ExitStack, contextmanager
from datetime import timezone
from pathlib import Path
from typing import Iterator

from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.utils import utcparse

from benchmarks import jobs
from benchmarks.burst import BenchmarkFailed
from benchmarks.http_load import stop
from benchmarks.report import Row, compared
from benchmarks.subjects import Pair, process_env, script

SECTION = "latency"
BARE_QUEUE = "latency-bare"
POLL_S = 0.002
WARM_UP = 3


def measure(pair: Pair, tasks: int, repeats: int, logs: Path) -> list[Row]:
    from rqledger.application.tasks import TaskRequest
    from sqlalchemy import select

    from rqledger.adapters.sqlalchemy.tables import TaskRow

    connection = pair.bare.connection
    bare_queue = Queue(BARE_QUEUE, connection=connection, serializer=JSONSerializer)
    enqueue = pair.ledger.container.enqueue_task()
    tasks_table = TaskRow.__table__
    engine = pair.ledger.engine

    def ledger_once() -> float:
        began = time.time()
        task = enqueue(TaskRequest("noop"))
        _wait_finished(connection, str(task.id))
        statement = select(tasks_table.c.ended_at).where(tasks_table.c.id == task.id)
        deadline = time.monotonic() + 30
        with engine.connect() as conn:
            # the row usually has its end by now; if the ledger writes it after RQ's status, wait for it
            while (ended := conn.execute(statement).scalar()) is None:
                conn.rollback()
                if time.monotonic() > deadline:
                    raise BenchmarkFailed(f"task {task.id} finished in RQ but its row has no ended_at after 30 s")
                time.sleep(POLL_S)
        if ended.tzinfo is None:
            ended = ended.replace(tzinfo=timezone.utc)
        return (ended.timestamp() - began) * 1000

    def bare_once() -> float:
        began = time.time()
        job = bare_queue.enqueue(jobs.noop)
        _wait_finished(connection, job.id)
        ended = connection.hget(job.key, "ended_at")
        return (utcparse(ended.decode()).replace(tzinfo=timezone.utc).timestamp() - began) * 1000

    ledger_worker = [*script("rqledger"), "worker", "--concurrency", "1"]
    bare_worker = [*script("rq"), "worker", "--with-scheduler", "--serializer", "json", "--url", pair.bare.redis_url,
                   BARE_QUEUE]
    with ExitStack() as stack:
        stack.enter_context(running(ledger_worker, pair.ledger.worker_env(), logs / "latency-rqledger-worker.log"))
        stack.enter_context(running(bare_worker, pair.bare.worker_env(), logs / "latency-rq-worker.log"))
        for _ in range(WARM_UP):  # also waits for both workers to be up
            ledger_once()
            bare_once()
        rounds = []
        for round_number in range(repeats):
            ledger, bare = [], []
            for i in range(tasks):
                order = [(ledger_once, ledger), (bare_once, bare)]
                if (i + round_number) % 2:
                    order.reverse()
                for once, into in order:
                    into.append(once())
            rounds.append((ledger, bare))
    pair.flush()
    p50 = [(_percentile(a, 50), _percentile(b, 50)) for a, b in rounds]
    p99 = [(_percentile(a, 99), _percentile(b, 99)) for a, b in rounds]
    return [
        compared(SECTION, f"enqueue -> finished, p50 of {tasks}: `rqledger worker --concurrency 1` vs `rq worker`", "ms",
                 p50, note="one task at a time, workers running"),
        compared(SECTION, f"  the same, p99 of {tasks}", "ms", p99),
        Row(SECTION, "  p50 difference (rqledger - bare)", "ms",
            statistics.median(a - b for a, b in p50), None, None, "target: <= 3 ms (issue 16)",
            min(a - b for a, b in p50), max(a - b for a, b in p50)),
    ]


def _percentile(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[percent - 1] if percent < 100 else ordered[-1]


def _wait_finished(connection, job_id: str, timeout: float = 60) -> None:
    key = Job.key_for(job_id)
    deadline = time.monotonic() + timeout
    while True:
        status = connection.hget(key, "status")
        if status == b"finished":
            return
        if status in (b"failed", b"stopped", b"canceled"):
            raise BenchmarkFailed(f"job {job_id} is {status.decode()}")
        if time.monotonic() > deadline:
            raise BenchmarkFailed(f"job {job_id} did not finish within {timeout:.0f} s (status {status!r}); "
                                  "is the worker running?")
        time.sleep(POLL_S)


@contextmanager
def running(command: list[str], env: dict, log_path: Path) -> Iterator[subprocess.Popen]:
    """A long-running worker process in a session of its own; stopped (SIGTERM, then SIGKILL) afterwards."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield process
        finally:
            stop(process)
