"""`rqledger enqueue`, `tasks`, `show` and `purge`: the ledger from a terminal, through the use cases.

They talk to the database and Redis named by DATABASE_URL and REDIS_URL (as
the worker does), not to the HTTP API. A caller (a test) may pass its own
container as the click context object.
"""

from __future__ import annotations

import json
from datetime import timedelta

import click
from rich.console import Console

from application.ports import TaskQuery
from application.purge import ended_statuses
from application.tasks import TaskRequest
from domain.errors import InvalidArguments
from domain.task import TaskStatus
from entrypoints.command_errors import one_line_errors
from entrypoints.console import show_task, task_record, tasks_table, wait_with_progress

EXIT_FAILED = 1
EXIT_CANCELED = 3


def _container():
    from entrypoints.container import build_container

    given = click.get_current_context().find_root().obj  # a container a caller brought (tests)
    return given if given is not None else build_container()


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def parse_argument(text: str):
    """An ARG is JSON when it parses as JSON (3, true, [1], {"a": 1}, "quoted"), else the string itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@click.command("enqueue")
@click.argument("name")
@click.argument("args", nargs=-1)
@click.option("--kwargs", "kwargs_json", default=None, metavar="JSON", help='Keyword arguments, e.g. \'{"url": "…"}\'.')
@click.option("--wait", is_flag=True, help="Show a progress bar until the task ends, then its result or its log.")
@click.option("--queue", default=None, help="The queue to put it on (default: the task type's).")
@click.option("--owner", default=None, help="Who asked for it (for per-user listings).")
@one_line_errors
def enqueue(name: str, args: tuple[str, ...], kwargs_json: str | None, wait: bool, queue: str | None,
            owner: str | None) -> None:
    """Enqueue task NAME with ARGs (each parsed as JSON when it parses, else taken as a string).

    With --wait the exit code is 0 when the task finished, 1 when it failed, 3 when it was canceled.
    """
    kwargs = {}
    if kwargs_json is not None:
        try:
            kwargs = json.loads(kwargs_json)
        except ValueError as exc:
            raise InvalidArguments(f"--kwargs is not valid JSON: {exc}") from None
        if not isinstance(kwargs, dict):
            raise InvalidArguments('--kwargs must be a JSON object, e.g. \'{"seconds": 3}\'')
    container = _container()
    task = container.enqueue_task()(TaskRequest(name, [parse_argument(a) for a in args], kwargs, queue=queue,
                                                owner=owner))
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
@click.option("--status", "statuses", multiple=True, metavar="STATUS",
              help="Only these statuses (queued, running, finished, failed, canceled); repeat or comma-separate.")
@click.option("--name", default=None, help="Only tasks of this type.")
@click.option("--owner", default=None, help="Only tasks of this owner.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500), help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@one_line_errors
def tasks(statuses: tuple[str, ...], name: str | None, owner: str | None, limit: int, as_json: bool) -> None:
    """List tasks, newest first, as a table."""
    wanted = _statuses(statuses)
    page = _container().list_tasks()(TaskQuery(statuses=wanted, name=name, owner=owner, limit=limit))
    console = _console()
    if as_json:
        console.print_json(data={"items": [task_record(t) for t in page.items], "next_cursor": page.next_cursor})
        return
    if not page.items:
        console.print("No tasks.")
        return
    console.print(tasks_table(page.items))
    if page.next_cursor is not None:
        console.print(f"(newest {limit} shown; use --limit for more)", style="dim")


@click.command("show")
@click.argument("task_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
@one_line_errors
def show(task_id: int, as_json: bool) -> None:
    """Show one task whole: arguments, status, progress, result, log and every attempt."""
    task = _container().get_task()(task_id)
    console = _console()
    if as_json:
        console.print_json(data=task_record(task))
    else:
        show_task(console, task)


@click.command("purge")
@click.option("--older-than", "days", required=True, type=click.FloatRange(min=0), metavar="DAYS",
              help="Delete what ended more than DAYS ago (fractions allowed: 0.5 is twelve hours).")
@click.option("--status", "statuses", multiple=True, metavar="STATUS",
              help="Only these ended statuses (finished, failed, canceled; default: all three).")
@one_line_errors
def purge(days: float, statuses: tuple[str, ...]) -> None:
    """Delete ended tasks and schedule runs past a retention age, in batches, and say how many."""
    names = sorted(_split(statuses))
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


def _split(values: tuple[str, ...]) -> set[str]:
    return {part.strip() for value in values for part in value.split(",") if part.strip()}


def _statuses(values: tuple[str, ...]) -> frozenset[TaskStatus]:
    known = {s.value: s for s in TaskStatus}
    names = _split(values)
    wrong = sorted(names - set(known))
    if wrong:
        raise InvalidArguments(f"unknown status {', '.join(wrong)}; use one of {', '.join(known)}")
    return frozenset(known[n] for n in names)


COMMANDS = [enqueue, tasks, show, purge]
