"""Builds and runs the worker process: an RQ LedgerWorker on the configured queues and Redis."""

from __future__ import annotations

import logging
import os
import socket
import sys
import uuid
from urllib.parse import urlsplit

from adapters.rq import JobFailures, LedgerWorker, queue_errors, redis_connection
from entrypoints import runtime
from entrypoints.container import Container, build_container

LOG_FORMAT = "%(asctime)s %(message)s"


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
    return worker_class(
        queue_names,
        name=options.pop("name", None) or worker_name(),
        # its own connection: RQ raises the socket timeout of the worker's connection for its blocking dequeue
        connection=redis_connection(container.config.redis_url()),
        failure_handlers=[JobFailures(uow=container.uow(), execution=container.execution()), *failure_handlers],
        **options,
    )


def run_worker(queues: list[str] | None = None, burst: bool = False, with_scheduler: bool = True,
               container: Container | None = None) -> bool:
    """Runs until SIGTERM/SIGINT (warm shutdown: the current task finishes) or, with `burst`, until the
    queues are empty. Returns whether any job was worked on."""
    container = container or build_container()
    runtime.install(container)  # entrypoints.jobs.run_task finds this container in the work-horses
    configure_logging()
    url = container.config.redis_url()
    with queue_errors(f"be reached at {_where(url)} (REDIS_URL)"):
        redis_connection(url).ping()  # a clear one-line error instead of a traceback from deep inside RQ
    worker = build_worker(container, queues)
    return worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO")


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
