"""`rqledger enqueue`, `tasks`, `show` and `purge`: the ledger from a terminal, through the use cases.

They talk to the database and Redis named by DATABASE_URL and REDIS_URL (as
the worker does), not to the HTTP API. A caller (a test) may pass its own
container as the click context object.
"""

from __future__ import annotations

from datetime import timedelta

import click

from rqledger.application.ports import TaskQuery
from rqledger.application.purge import ended_statuses
from rqledger.application.tasks import TaskRequest
from rqledger.domain.task import TaskStatus
from rqledger.entrypoints.command_errors import one_line_errors
from rqledger.entrypoints.commands.arguments import cursor, parse_argument, parse_kwargs, split, statuses
from rqledger.application.queues import waiting_reasons
from rqledger.entrypoints.commands.context import console as _console, container as _container, echo_json
from rqledger.entrypoints.console import (page_record, print_table, show_task, task_record, tasks_table,
                                          wait_with_progress)

EXIT_FAILED = 1
EXIT_CANCELED = 3


@click.command("enqueue")
@click.argument("name")
@click.argument("args", nargs=-1)
@click.option("--kwargs", "kwargs_json", default=None, metavar="JSON", help='Keyword arguments, e.g. \'{"url": "…"}\'.')
@click.option("--wait", is_flag=True, help="Show a progress bar until the task ends, then its result or its log.")
@click.option("--queue", default=None, help="The queue to put it on (default: the task type's).")
@click.option("--owner", default=None, help="Who asked for it (for per-user listings).")
@click.option("--priority", type=click.Choice(["high", "normal", "low"]), default=None,
              help="Taken before (high) or after (low) the queue's other tasks (default: the task type's).")
@one_line_errors
def enqueue(name: str, args: tuple[str, ...], kwargs_json: str | None, wait: bool, queue: str | None,
            owner: str | None, priority: str | None) -> None:
    """Enqueue task NAME with ARGs (each parsed as JSON when it parses, else taken as a string).

    With --wait the exit code is 0 when the task finished, 1 when it failed, 3 when it was canceled.
    """
    kwargs = parse_kwargs(kwargs_json)
    container = _container()
    task = container.enqueue_task()(TaskRequest(name, [parse_argument(a) for a in args], kwargs, queue=queue,
                                                owner=owner, priority=priority))
    console = _console()
    if not wait:
        console.print(f"Task {task.id} queued: {task.name}. Follow it with: rqledger show {task.id}")
        return
    get_task = container.get_task()
    try:
        task = wait_with_progress(console, lambda: get_task(task.id))
    except KeyboardInterrupt:
        console.print(f"Stopped waiting; task {task.id} goes on. Follow it with: rqledger show {task.id}")
        raise click.exceptions.Exit(130) from None
    if task.status is TaskStatus.FINISHED:
        console.print_json(data=task.result)
        return
    console.print(f"Task {task.id} {task.status.value}. Log:", style="bold red")
    console.print(task.log or "-", markup=False, highlight=False)
    raise click.exceptions.Exit(EXIT_FAILED if task.status is TaskStatus.FAILED else EXIT_CANCELED)


@click.command("tasks")
@click.option("--status", "statuses_", multiple=True, metavar="STATUS",
              help="Only these statuses (queued, running, finished, failed, canceled); repeat or comma-separate.")
@click.option("--name", default=None, help="Only tasks of this type.")
@click.option("--owner", default=None, help="Only tasks of this owner.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500), help="How many, newest first.")
@click.option("--cursor", "cursor_", default=None, metavar="CURSOR",
              help="Continue below a previous page (its next_cursor, as the API's ?cursor=).")
@click.option("--wide", is_flag=True, help="Show each call whole instead of shortening it to the terminal's width.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the API's page: items, next_cursor) instead of a table.")
@one_line_errors
def tasks(statuses_: tuple[str, ...], name: str | None, owner: str | None, limit: int, cursor_: str | None,
          wide: bool, as_json: bool) -> None:
    """List tasks, newest first, one line each (long calls end in …; --wide shows them whole)."""
    query = TaskQuery(statuses=statuses(statuses_, TaskStatus), name=name, owner=owner, limit=limit,
                      before_id=cursor(cursor_))
    container = _container()
    page = container.list_tasks()(query)
    if as_json:
        waiting = waiting_reasons(page.items, container.queue_pauses())
        echo_json(page_record(page, lambda task: task_record(task, history=False, waiting=waiting.get(task.id))))
        return
    console = _console()
    if not page.items:
        console.print("No tasks.")
        return
    print_table(console, tasks_table(page.items, wide=wide), wide=wide)
    if page.next_cursor is not None:
        console.print(f"(more: --cursor {page.next_cursor})", style="dim")


@click.command("show")
@click.argument("task_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
@one_line_errors
def show(task_id: int, as_json: bool) -> None:
    """Show one task whole: arguments, status, progress, result, log and every attempt."""
    container = _container()
    task = container.get_task()(task_id)
    waiting = waiting_reasons([task], container.queue_pauses()).get(task.id)
    if as_json:
        echo_json(task_record(task, waiting=waiting))
    else:
        show_task(_console(), task, waiting)


@click.command("purge")
@click.option("--older-than", "days", required=True, type=click.FloatRange(min=0), metavar="DAYS",
              help="Delete what ended more than DAYS ago (fractions allowed: 0.5 is twelve hours).")
@click.option("--status", "ended", multiple=True, metavar="STATUS",
              help="Only these ended statuses (finished, failed, canceled; default: all three).")
@one_line_errors
def purge(days: float, ended: tuple[str, ...]) -> None:
    """Delete ended tasks and schedule runs past a retention age, in batches, and say how many."""
    names = sorted(split(ended))
    ended_statuses(names)  # refuses queued/running before anything is deleted
    container = _container()
    age = timedelta(days=days)
    console = _console()
    tasks_deleted = container.purge_tasks()(age, names or None,
                                            on_batch=lambda n: console.print(f"  … {n} tasks deleted", style="dim"))
    runs_deleted = container.purge_runs()(age, names or None,
                                          on_batch=lambda n: console.print(f"  … {n} runs deleted", style="dim"))
    console.print(f"Deleted {tasks_deleted} task{'s' * (tasks_deleted != 1)} and {runs_deleted} "
                  f"run{'s' * (runs_deleted != 1)} that ended more than {days:g} day{'s' * (days != 1)} ago.")


COMMANDS = [enqueue, tasks, show, purge]
