"""`rqledger worker`: runs tasks from the queues."""

from __future__ import annotations

import os

import click

from rqledger.entrypoints.command_errors import one_line_errors


def default_concurrency() -> int:
    """The pooled worker's processes when no kind of worker is chosen: RQLEDGER_WORKER_CONCURRENCY, else one
    per CPU (Celery's default), at most 8: each process holds a database connection and a Redis one."""
    configured = os.environ.get("RQLEDGER_WORKER_CONCURRENCY", "").strip()
    if configured:
        try:
            value = int(configured)
        except ValueError:
            raise click.UsageError(f"RQLEDGER_WORKER_CONCURRENCY must be a whole number, not {configured!r}")
        if not 1 <= value <= 256:
            raise click.UsageError(f"RQLEDGER_WORKER_CONCURRENCY must be between 1 and 256, not {value}")
        return value
    return max(1, min(os.cpu_count() or 1, 8))


@click.command("worker")
@click.option("--queues", "-q", default=None, metavar="a,b",
              help="Comma list of queues to listen on (default: RQLEDGER_QUEUES, else 'default').")
@click.option("--burst", is_flag=True, help="Work until the queues are empty, then exit.")
@click.option("--without-scheduler", is_flag=True,
              help="Do not run RQ's scheduler (interval retries then wait for another worker that runs it).")
@click.option("--simple", is_flag=True,
              help="Run tasks in the worker's own process (RQ's SimpleWorker) instead of a work-horse forked per "
                   "task: faster for short tasks, but a task that crashes or leaks takes the worker with it.")
@click.option("--concurrency", "-c", type=click.IntRange(1, 256), default=None,
              help="Run N long-lived worker processes that take tasks one after another, without a fork per "
                   "task (the pooled worker, the default; a cancel or a stuck task ends its process, which is "
                   "replaced). Default: RQLEDGER_WORKER_CONCURRENCY, else one per CPU, at most 8.")
@click.option("--max-tasks-per-child", type=click.IntRange(1), default=None,
              help="With --concurrency: replace a process after this many tasks.")
@click.option("--max-memory-per-child", type=click.FloatRange(1), default=None, metavar="MB",
              help="With --concurrency: replace a process after a task leaves it above this RSS, in MB.")
@click.option("--fork-per-task", is_flag=True,
              help="Fork a fresh work-horse for every task (RQ's own default worker): for tasks that need a fresh "
                   "process each time.")
@one_line_errors
def worker(queues: str | None, burst: bool, without_scheduler: bool, simple: bool, concurrency: int | None,
           max_tasks_per_child: int | None, max_memory_per_child: float | None, fork_per_task: bool) -> None:
    """Run an RQ worker that records every task in the ledger (SIGTERM: finish the current task, then exit).

    By default a pool of long-lived processes (--concurrency), each taking tasks one after another;
    --fork-per-task forks a work-horse per task as `rq worker` does; --simple runs tasks in this process.

    It runs the @task functions of the modules named in RQLEDGER_TASK_MODULES (e.g. app.tasks), imported
    from the current directory, the folders of `rqledger --path DIR` and RQLEDGER_PATH, or the installed
    packages. Without any it still starts, and says so.
    """
    from rqledger.entrypoints.worker import run_worker

    kinds = [flag for flag, given in (("--simple", simple), ("--concurrency", concurrency is not None),
                                      ("--fork-per-task", fork_per_task)) if given]
    if len(kinds) > 1:
        raise click.UsageError(f"{' and '.join(kinds)} are different kinds of worker: choose one")
    if (max_tasks_per_child or max_memory_per_child) and concurrency is None:
        raise click.UsageError("--max-tasks-per-child and --max-memory-per-child need --concurrency N")
    if not kinds:
        concurrency = default_concurrency()
    names = [q.strip() for q in queues.split(",") if q.strip()] if queues else None
    run_worker(queues=names, burst=burst, with_scheduler=not without_scheduler, simple=simple,
               concurrency=concurrency, max_tasks=max_tasks_per_child, max_memory_mb=max_memory_per_child)


COMMANDS = [worker]
