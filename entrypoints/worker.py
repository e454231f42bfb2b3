"""Builds and runs the worker process: an RQ LedgerWorker on the configured queues and Redis."""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import uuid
from urllib.parse import urlsplit

from rq import SimpleWorker
from rq.exceptions import StopRequested

from rqledger.adapters.rq import AttemptHandoff, JobFailures, LedgerSimpleWorker, LedgerWorker, queue_errors, redis_connection
from rqledger.adapters.rq.allow_list import JOB_FUNC
from rqledger.adapters.rq.liveness import rq_worker_options
from rqledger.adapters.rq.queue import listening_order
from rqledger.adapters.scheduler import RunFailures
from rqledger.domain.task import Task
from rqledger.entrypoints.logs import apply_log_format
from rqledger.entrypoints import runtime
from rqledger.entrypoints.container import Container, build_container
from rqledger.entrypoints.task_modules import announce as announce_task_modules

LOG_FORMAT = "%(asctime)s %(message)s"

log = logging.getLogger("rqledger.worker")


def worker_name() -> str:
    """Readable and unique among live workers: host, pid and a short random suffix (pids get reused)."""
    return f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"


def build_worker(container: Container, queues: list[str] | None = None, worker_class=LedgerWorker,
                 failure_handlers: tuple = (), **options):
    """A worker listening on `queues` (default: the configured ones), wired to the container's ledger.

    `failure_handlers` are told of failures RQ saw outside a job's own code, after the
    tasks' (JobFailures), e.g. to end a schedule's run whose work-horse was killed.
    """
    queue_names = queues or container.config.queues() or ["default"]
    # heartbeats often enough that a dead worker is told from a live one within RQLEDGER_WORKER_TTL
    for key, value in rq_worker_options(container.config.worker_ttl() or 30.0).items():
        options.setdefault(key, value)
    return worker_class(
        listening_order(queue_names),  # each queue's high, normal and low RQ queues, every high one first
        name=options.pop("name", None) or worker_name(),
        # its own connection: RQ raises the socket timeout of the worker's connection for its blocking dequeue
        connection=redis_connection(container.config.redis_url()),
        failure_handlers=[JobFailures(uow=container.uow(), execution=container.execution()), *failure_handlers],
        # the forking worker keeps writing the ledger from its work-horses: with the handoff, the row shows
        # running a moment before the horse exists, and a stop command in that moment was seen to be lost
        # (tests/integration/rq/test_worker_process.py, about 1 run in 5); see docs/STATUS.md
        handoff=None if not issubclass(worker_class, SimpleWorker) else AttemptHandoff(
            container.execution(), frozenset({JOB_FUNC}), outcome_patience=container.config.outcome_patience() or 30.0,
            # fast mode: outcomes written behind the jobs, several per commit (rqledger.adapters.rq.handoff)
            write_behind=container.config.durability() == "fast"),
        limited=lambda name: bool(container.attempt_gate().limits_of(name)),
        paused=container.pause_watch().paused,  # paused queues are not listened to (rqledger.application.queues)
        **options,
    )


def run_worker(queues: list[str] | None = None, burst: bool = False, with_scheduler: bool = True,
               container: Container | None = None, simple: bool = False, concurrency: int | None = None,
               max_tasks: int | None = None, max_memory_mb: float | None = None) -> bool:
    """Runs until SIGTERM/SIGINT (warm shutdown: the current task finishes) or, with `burst`, until the
    queues are empty. Returns whether any job was worked on. `simple`: tasks run in this process
    (LedgerSimpleWorker) instead of one forked work-horse each (LedgerWorker). `concurrency`: a pool of that
    many long-lived processes taking tasks one after another (rqledger.entrypoints.worker_pool), each
    replaced after `max_tasks` tasks or past `max_memory_mb` MB."""
    container = container or build_container()
    runtime.install(container)  # rqledger.entrypoints.task_entry.run_task finds this container in the work-horses
    configure_logging()
    apply_log_format(container.config.log_format() or "text")
    # a worker given no task modules still starts (a task it picks up fails: its type is unknown), but says so
    announce_task_modules(log, container.config.task_modules() or [], container.registry())
    url = container.config.redis_url()
    with queue_errors(f"be reached at {_where(url)} (REDIS_URL)"):
        redis_connection(url).ping()  # a clear one-line error instead of a traceback from deep inside RQ
    warm_up_ledger(container)
    container.attempt_gate()  # the per-type limits, built once here: every work-horse inherits them
    # a killed work-horse of a schedule's firing ends its run at once (not at the scheduler's next round)
    runs = RunFailures(uow=container.uow(), runs=container.scheduled_runs())
    if concurrency is not None:
        from rqledger.entrypoints.worker_pool import WorkerPool

        WorkerPool(container, build_worker, queues, concurrency, burst=burst, with_scheduler=with_scheduler,
                   failure_handlers=(runs,), max_tasks=max_tasks, max_memory_mb=max_memory_mb).run()
        return True
    worker = None
    while True:
        try:
            worker = build_worker(container, queues, failure_handlers=(runs,),
                                  worker_class=LedgerSimpleWorker if simple else LedgerWorker)
            worked = worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO")
        except (StopRequested, SystemExit):
            raise
        except Exception:  # e.g. Redis vanished while the worker registered or said goodbye
            log.exception("worker %s: its loop failed", worker.name if worker else "-")
            worked = False
        if burst or (worker is not None and worker.stop_signaled):
            return worked
        # RQ quits its loop on errors it does not expect (logged above): a fresh worker takes over
        try:
            if worker is not None:
                _wait_for_horse(worker)
            _wait_for_redis(url)
            log.warning("the worker loop quit without being asked to; a new worker starts")
        except StopRequested:
            return worked


def warm_up_ledger(container: Container) -> None:
    """Runs a job's ledger statements once in this (parent) process, in a transaction that is rolled back.

    Every work-horse is a fork of this process: it inherits the statements compiled
    (SQLAlchemy's cache) and the dialect set up by a first connection, instead of paying
    for both in every job (~10 ms/job on SQLite, ~25 ms on PostgreSQL; benchmarks/FINDINGS.md).
    The connection itself is never shared: the engine drops inherited connections in a
    forked child (rqledger.adapters.sqlalchemy.engine). Nothing is committed, so nobody ever sees
    the row; a ledger that cannot be reached now only costs the speed-up.
    """
    uow, clock = container.uow(), container.clock()
    try:
        with uow:  # never committed: leaving the block rolls it all back
            now = clock.now()
            task = Task(name="rqledger.warm-up", created_at=now)
            task.mark_enqueued(now)
            uow.tasks.add(task)
            # the statements of TaskExecution: start (read, write, attempt), progress, finish (read, write)
            running = uow.tasks.get(task.id)
            running.start("warm-up", now)
            uow.tasks.save(running)
            uow.tasks.record_progress(task.id, running.attempts, 50)
            finished = uow.tasks.get(task.id)
            finished.finish(None, now)
            uow.tasks.save(finished)
    except Exception as exc:  # the worker works as well without it, only slower
        log.warning("ledger warm-up skipped: %s", exc)


def _wait_for_redis(url: str, every: float = 1.0) -> None:
    connection = redis_connection(url)
    while True:
        try:
            connection.ping()
            return
        except Exception:
            time.sleep(every)


def _wait_for_horse(worker) -> None:
    """A work-horse left running by a loop that quit finishes its task (and its outcome) first."""
    if worker.horse_pid:
        try:
            os.waitpid(worker.horse_pid, 0)
        except ChildProcessError:
            pass


def configure_logging(level: int = logging.INFO) -> None:
    """One line per task start and end from the `rqledger` loggers, next to RQ's own lines (stdout)."""
    logger = logging.getLogger("rqledger")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


def _where(url: str) -> str:
    """host:port/db of a Redis URL, without its password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or ''}"
