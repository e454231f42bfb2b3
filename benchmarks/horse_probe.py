"""A forking LedgerWorker that measures where each job's time goes (used by benchmarks.profile_worker).

Per job it appends one JSON line to the file named by $RQLEDGER_PROBE_OUT:

- parent_ms: the whole job as the parent worker sees it (fork, wait, bookkeeping);
- fork_ms: from just before os.fork() in the parent to the first line of the work-horse;
- horse_ms: the work-horse's perform_job (RQ's bookkeeping + the job function);
- job_ms: the job function alone (rqledger.entrypoints.task_entry.run_task: ledger start, task, ledger finish);
- after_ms: from the horse's last line to the parent's end of the job (exit, wait, RQ's parent side);
- sql_statements / sql_commits / db_connects: what the work-horse did on the ledger's engine.

With $RQLEDGER_PROBE_PROFILE set to a folder, each work-horse also writes a cProfile
dump there (`horse-<job id>.prof`). $RQLEDGER_PROBE_TWEAKS, a comma list, tries out
in the worker the changes that FINDINGS.md proposes, before the first fork:

- connect: the ledger engine connects once in the parent (dialect initialized);
- statements: the parent runs every statement of a job once, in a transaction it
  rolls back, so each work-horse inherits them compiled (SQLAlchemy's cache);
- libversion: redis-py's per-connection package-metadata lookup is done once.
"""

from __future__ import annotations

import cProfile
import json
import os
import time

from sqlalchemy import event

from rq import Worker

from rqledger.adapters.rq import LedgerWorker
from rqledger.entrypoints import runtime


class ProbeHooks:
    """Timing of each job in the parent and in the work-horse, for any forking RQ worker class."""

    _fork_at = 0.0
    ledger = False  # whether there is a ledger engine to watch

    def work(self, *args, **kwargs):
        tweaks = {t.strip() for t in os.environ.get("RQLEDGER_PROBE_TWEAKS", "").split(",") if t.strip()}
        if "libversion" in tweaks:
            remember_redis_lib_version()
        if self.ledger and "connect" in tweaks:
            warm_engine()
        if self.ledger and "statements" in tweaks:
            compile_job_statements()
        return super().work(*args, **kwargs)

    def execute_job(self, job, queue):
        began = time.perf_counter()
        super().execute_job(job, queue)
        _write({"job": job.id, "side": "parent", "began": began, "ended": time.perf_counter()})

    def fork_work_horse(self, job, queue):
        self._fork_at = time.perf_counter()  # the work-horse inherits this value
        return super().fork_work_horse(job, queue)

    def perform_job(self, job, queue, execution):
        began = time.perf_counter()
        counts = _count_sql(runtime.current().database_engine()) if self.ledger else {}
        timed_job(job)
        folder = os.environ.get("RQLEDGER_PROBE_PROFILE")
        profiler = cProfile.Profile() if folder else None
        if profiler:
            profiler.enable()
        try:
            return super().perform_job(job, queue, execution)
        finally:
            if profiler:
                profiler.disable()
                profiler.dump_stats(os.path.join(folder, f"horse-{job.id}.prof"))
            _write({"job": job.id, "side": "horse", "fork_at": self._fork_at, "began": began,
                    "job_s": getattr(job, "_probe_seconds", None), "ended": time.perf_counter(), **counts})


def timed_job(job) -> None:
    """Wraps this job object's perform() so that the job function's own time is kept on it."""
    perform = job.perform

    def timed():
        began = time.perf_counter()
        try:
            return perform()
        finally:
            job._probe_seconds = time.perf_counter() - began

    job.perform = timed


def warm_engine() -> None:
    """Connects the ledger's engine once in this process: a forked work-horse then skips the dialect's setup."""
    with runtime.current().database_engine().connect():
        pass


def compile_job_statements() -> None:
    """Runs a job's ledger statements once on a row that is rolled back, so they are compiled and cached."""
    from rqledger.application.tasks import TaskRequest

    container = runtime.current()
    uow, clock = container.uow(), container.clock()
    task = container.enqueue_task().build(TaskRequest("noop"))
    with uow:  # never committed: leaving the block rolls it all back
        task.created_at = clock.now()
        task.mark_enqueued(clock.now())
        uow.tasks.add(task)
        running = uow.tasks.get(task.id)
        running.start("warm-up", clock.now())
        uow.tasks.save(running)
        finished = uow.tasks.get(task.id)
        finished.finish(None, clock.now())
        uow.tasks.save(finished)
        uow.tasks.record_progress(task.id, finished.attempts, 50)


def remember_redis_lib_version() -> None:
    """redis-py looks its own version up in the package metadata for every new connection; once is enough."""
    import functools

    import redis.utils

    redis.utils.get_lib_version = functools.cache(redis.utils.get_lib_version)


def _count_sql(engine) -> dict:
    counts = {"sql_statements": 0, "sql_commits": 0, "db_connects": 0}

    def statement(*_args):
        counts["sql_statements"] += 1

    def commit(*_args):
        counts["sql_commits"] += 1

    def connect(*_args):
        counts["db_connects"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    event.listen(engine.pool, "connect", connect)
    return counts


def _write(record: dict) -> None:
    path = os.environ.get("RQLEDGER_PROBE_OUT")
    if not path:
        return
    with open(path, "a") as out:
        out.write(json.dumps(record) + "\n")


class ProbeWorker(ProbeHooks, LedgerWorker):
    """rqledger's forking worker, measured."""

    ledger = True


class ProbeRqWorker(ProbeHooks, Worker):
    """Bare RQ's forking worker, measured the same way (`rq worker -w benchmarks.horse_probe.ProbeRqWorker`)."""
