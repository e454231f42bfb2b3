"""`rqledger cancel`, `retry` and `delete`: what the API does to one task (POST .../cancel, .../retry, DELETE),
to several at once. Each id gets its own line; an id that cannot be done is an `Error:` line naming it, the
others go on, and the exit code is 1 when any could not be done."""

from __future__ import annotations

import click

from rqledger.entrypoints.command_errors import each_id, one_line_errors
from rqledger.entrypoints.commands.context import container
from rqledger.entrypoints.console import call_text


def _ids(command):
    return click.argument("task_ids", metavar="ID...", nargs=-1, required=True, type=click.IntRange(min=1))(command)


@click.command("cancel")
@_ids
@one_line_errors
def cancel(task_ids: tuple[int, ...]) -> None:
    """Cancel tasks: a queued one never runs, a running one is stopped (ended tasks are refused)."""
    cancel_task = container().cancel_task()
    each_id("task", task_ids, lambda task_id: _line(cancel_task(task_id), "canceled"))


@click.command("retry")
@_ids
@one_line_errors
def retry(task_ids: tuple[int, ...]) -> None:
    """Queue failed or canceled tasks again (they keep their attempts and log)."""
    retry_task = container().retry_task()
    each_id("task", task_ids, lambda task_id: _line(retry_task(task_id), "queued again"))


@click.command("delete")
@_ids
@one_line_errors
def delete(task_ids: tuple[int, ...]) -> None:
    """Delete ended tasks and their attempts (a queued or running one is refused: cancel it first)."""
    delete_task = container().delete_task()

    def act(task_id: int) -> str:
        delete_task(task_id)
        return f"Task {task_id} deleted."

    each_id("task", task_ids, act)


def _line(task, what: str) -> str:
    return f"Task {task.id} {what}: {call_text(task.name, task.args, task.kwargs, 20)}"


COMMANDS = [cancel, retry, delete]
