"""A worker's resident memory after 100 and after --memory-tasks tasks (default 10,000), rqledger vs bare RQ.

Four long-running workers at once, each on a queue of its own: `rqledger worker`
(forking) and `rqledger worker --simple`, `rq worker` and `rq worker --worker-class
rq.worker.SimpleWorker`. Each gets 100 trivial tasks; when the last has finished
(the worker is idle) its main process's VmRSS is read from /proc; then the rest are
enqueued in batches while it works, and VmRSS is read again once the last has
finished. A forking worker's work-horse is another pid: the parent is measured,
which is the process that lives for days. Memory is not timed, so the four share
the machine; one run (no repeats).
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from benchmarks import jobs
from benchmarks.burst import BenchmarkFailed
from benchmarks.latency import running
from benchmarks.report import Row
from benchmarks.subjects import QUEUE, Pair, ledger_env, process_env, script

SECTION = "memory"
FIRST = 100
BATCH = 500
POLL_S = 0.05


@dataclass
class Subject:
    label: str
    queue: str
    command: list[str]
    env: dict
    enqueue: Callable[[int], list[str]]  # enqueues n tasks on `queue`, returns their RQ job ids
    readings: list[float] = field(default_factory=list)  # MB after FIRST tasks, after all
    process: object = None


def measure(pair: Pair, tasks: int, logs: Path, timeout: float = 3600) -> list[Row]:
    from rqledger.application.tasks import TaskRequest
    from rqledger.entrypoints.container import build_container
    from rqledger.entrypoints.settings import load_settings

    tasks = max(tasks, FIRST + 1)
    queues = {"ledger-fork": "mem-ledger-fork", "ledger-simple": "mem-ledger-simple",
              "bare-fork": "mem-bare-fork", "bare-simple": "mem-bare-simple"}
    database_url = pair.ledger.env["DATABASE_URL"]
    env = ledger_env(pair.ledger.redis_url, database_url,
                     queues=",".join([QUEUE, queues["ledger-fork"], queues["ledger-simple"]]))
    container = build_container(load_settings(env))
    enqueue_task = container.enqueue_task()
    connection = pair.bare.connection

    def ledger_enqueue(queue: str) -> Callable[[int], list[str]]:
        return lambda n: [str(t.id) for t in enqueue_task.many([TaskRequest("noop", queue=queue)] * n)]

    def bare_enqueue(queue: str) -> Callable[[int], list[str]]:
        rq_queue = Queue(queue, connection=connection, serializer=JSONSerializer)
        return lambda n: [j.id for j in rq_queue.enqueue_many([Queue.prepare_data(jobs.noop) for _ in range(n)])]

    rq_worker = [*script("rq"), "worker", "--with-scheduler", "--serializer", "json", "--url", pair.bare.redis_url]
    subjects = [
        Subject("rqledger worker", queues["ledger-fork"], [*script("rqledger"), "worker", "--fork-per-task", "-q", queues["ledger-fork"]],
                process_env(env), ledger_enqueue(queues["ledger-fork"])),
        Subject("rq worker", queues["bare-fork"], [*rq_worker, queues["bare-fork"]], process_env({}),
                bare_enqueue(queues["bare-fork"])),
        Subject("rqledger worker --simple", queues["ledger-simple"],
                [*script("rqledger"), "worker", "--simple", "-q", queues["ledger-simple"]], process_env(env),
                ledger_enqueue(queues["ledger-simple"])),
        Subject("rq worker SimpleWorker", queues["bare-simple"],
                [*rq_worker, "--worker-class", "rq.worker.SimpleWorker", queues["bare-simple"]], process_env({}),
                bare_enqueue(queues["bare-simple"])),
    ]
    try:
        with ExitStack() as stack:
            for subject in subjects:
                log = logs / f"memory-{subject.queue}.log"
                subject.process = stack.enter_context(running(subject.command, subject.env, log))
            drivers = [_drive(subject, connection, tasks) for subject in subjects]
            deadline = time.monotonic() + timeout
            while drivers:
                for driver in list(drivers):
                    if next(driver, "done") == "done":
                        drivers.remove(driver)
                for subject in subjects:
                    if subject.process.poll() is not None:
                        raise BenchmarkFailed(f"{subject.label} exited with {subject.process.returncode} "
                                              f"(log: {logs / f'memory-{subject.queue}.log'})")
                if time.monotonic() > deadline:
                    raise BenchmarkFailed(f"the memory workers did not get through {tasks} tasks in {timeout:.0f} s")
                time.sleep(POLL_S)
        _check_ledger(container.database_engine(), [queues["ledger-fork"], queues["ledger-simple"]], tasks)
    finally:
        container.rq_connection().close()
        container.events().close()
        container.database_engine().dispose()
        pair.flush()
    rows = []
    for ledger, bare, kind in ((subjects[0], subjects[1], "forking"), (subjects[2], subjects[3], "simple")):
        for index, when in ((0, f"after {FIRST} tasks"), (1, f"after {tasks:,} tasks")):
            a, b = ledger.readings[index], bare.readings[index]
            rows.append(Row(SECTION, f"{kind}: `{ledger.label}` vs `{bare.label}`, RSS {when}", "MB", a, b, a / b,
                            note="the worker's main process"))
        growth = [s.readings[1] - s.readings[0] for s in (ledger, bare)]
        rows.append(Row(SECTION, f"  {kind}: growth from {FIRST} to {tasks:,} tasks", "MB", growth[0], growth[1],
                        None, note="target: <= 10 MB"))
    return rows


def _drive(subject: Subject, connection, total: int) -> Iterator[None]:
    """Steps of one worker's scenario; yields while waiting."""
    ids = subject.enqueue(FIRST)
    while not _finished(connection, ids[-1]):
        yield
    subject.readings.append(rss_mb(subject.process.pid))
    left = total - FIRST
    queue_key = Queue(subject.queue, connection=connection).key
    while left:
        while connection.llen(queue_key) > BATCH:
            yield
        ids = subject.enqueue(min(BATCH, left))
        left -= len(ids)
        yield
    while not _finished(connection, ids[-1]):
        yield
    subject.readings.append(rss_mb(subject.process.pid))


def _finished(connection, job_id: str) -> bool:
    status = connection.hget(Job.key_for(job_id), "status")
    if status in (b"failed", b"stopped", b"canceled"):
        raise BenchmarkFailed(f"job {job_id} is {status.decode()}")
    return status == b"finished"


def rss_mb(pid: int) -> float:
    """VmRSS of a process, in MB (from /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchmarkFailed(f"no VmRSS for pid {pid}")


def _check_ledger(engine, queues: list[str], tasks: int) -> None:
    from sqlalchemy import text

    with engine.connect() as conn:
        for queue in queues:
            done = conn.execute(text("SELECT count(*) FROM rqledger_tasks WHERE queue = :q AND status = 'finished'"),
                                {"q": queue}).scalar()
            if done != tasks:
                raise BenchmarkFailed(f"{done} of {tasks} ledger rows on {queue} finished")
