"""`rqledger queues`: each queue's state and depth; `rqledger queues pause NAME` / `resume NAME`."""

from __future__ import annotations

from datetime import timezone

import click

from rqledger.entrypoints.command_errors import one_line_errors
from rqledger.entrypoints.commands.context import console, container, echo_json
from rqledger.entrypoints.console import compact_table


@click.group("queues", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (GET /api/queues): items of name, paused, paused_at, paused_by, reason, waiting "
                   "per priority, queued, running.")
@click.pass_context
@one_line_errors
def queues(ctx: click.Context, as_json: bool) -> None:
    """Each queue: paused or not, the jobs waiting in Redis (high/normal/low), the ledger's queued and running.

    A queued task waits in Redis until a worker takes it, or for its retry's delay (then it is not counted
    as waiting), so the two numbers differ by the delayed retries and the jobs being handed over.
    """
    if ctx.invoked_subcommand is not None:
        return
    from rqledger.entrypoints.web.records import queue_json

    states = container().list_queues()(strict=True)
    if as_json:
        echo_json({"items": [_plain(queue_json(state)) for state in states]})
        return
    table = compact_table("Queue", "State", "Waiting", "High", "Normal", "Low", "Queued", "Running",
                          right=("Waiting", "High", "Normal", "Low", "Queued", "Running"))
    for state in states:
        levels = state.waiting or {}
        table.add_row(state.name, "paused" if state.pause else "running", str(sum(levels.values())),
                      *(str(levels.get(level, 0)) for level in ("high", "normal", "low")),
                      str(state.queued), str(state.running))
    out = console()
    out.print(table)
    out.print("Waiting: jobs in Redis (by priority); queued and running: the ledger's tasks.", style="dim")
    for state in states:
        if state.pause:
            out.print(state.pause.describe(), markup=False, highlight=False)


@queues.command("pause")
@click.argument("name")
@click.option("--reason", default=None, help="Why: shown with the queue and its waiting tasks.")
@click.option("--by", default=None, help="Who pauses it (free text).")
@one_line_errors
def pause(name: str, reason: str | None, by: str | None) -> None:
    """Pause queue NAME: no worker starts its tasks (they stay queued) until it is resumed; running ones finish."""
    paused = container().pause_queue()(name, by=by, reason=reason)
    console().print(f"{paused.describe()}. Resume it with: rqledger queues resume {name}", markup=False,
                    highlight=False)


@queues.command("resume")
@click.argument("name")
@one_line_errors
def resume(name: str) -> None:
    """Resume queue NAME: workers take its waiting tasks again within seconds."""
    ended = container().resume_queue()(name)
    console().print(f"Queue {name!r} resumed." if ended else f"Queue {name!r} was not paused.", markup=False,
                    highlight=False)


def _plain(record: dict) -> dict:
    """The API's JSON: the time with its UTC offset (a naive one is UTC)."""
    paused_at = record["paused_at"]
    if paused_at is not None and paused_at.tzinfo is None:
        paused_at = paused_at.replace(tzinfo=timezone.utc)
    return {**record, "paused_at": None if paused_at is None else paused_at.isoformat()}


COMMANDS = [queues]
