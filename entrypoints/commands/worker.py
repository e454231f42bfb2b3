"""`rqledger worker`: runs tasks from the queues."""

from __future__ import annotations

import click

from rqledger.entrypoints.command_errors import one_line_errors


@click.command("worker")
@click.option("--queues", "-q", default=None, metavar="a,b",
              help="Comma list of queues to listen on (default: RQLEDGER_QUEUES, else 'default').")
@click.option("--burst", is_flag=True, help="Work until the queues are empty, then exit.")
@click.option("--without-scheduler", is_flag=True,
              help="Do not run RQ's scheduler (interval retries then wait for another worker that runs it).")
@click.option("--simple", is_flag=True,
              help="Run tasks in the worker's own process (RQ's SimpleWorker) instead of a work-horse forked per "
                   "task: faster for short tasks, but a task that crashes or leaks takes the worker with it.")
@one_line_errors
def worker(queues: str | None, burst: bool, without_scheduler: bool, simple: bool) -> None:
    """Run an RQ worker that records every task in the ledger (SIGTERM: finish the current task, then exit).

    It runs the @task functions of the modules named in RQLEDGER_TASK_MODULES (e.g. app.tasks), imported
    from the current directory, the folders of `rqledger --path DIR` and RQLEDGER_PATH, or the installed
    packages. Without any it still starts, and says so.
    """
    from rqledger.entrypoints.worker import run_worker

    names = [q.strip() for q in queues.split(",") if q.strip()] if queues else None
    run_worker(queues=names, burst=burst, with_scheduler=not without_scheduler, simple=simple)


COMMANDS = [worker]
