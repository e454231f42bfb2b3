"""`rqledger workers`: the RQ workers registered in Redis, what each is doing, and when it last said so."""

from __future__ import annotations

import click

from rqledger.entrypoints.command_errors import one_line_errors
from rqledger.entrypoints.commands.context import console, container, echo_json
from rqledger.entrypoints.console import compact_table


@click.command("workers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one item per worker.")
@one_line_errors
def workers(as_json: bool) -> None:
    """The workers registered in Redis: name, state, the task it runs, heartbeat age, tasks done and failed.

    A worker whose heartbeat is older than RQLEDGER_WORKER_TTL (30 s) is taken for dead by the reconciler.
    """
    services = container()
    if services.config.queue_backend() != "rq":
        raise click.ClickException("`rqledger workers` needs the rq queue backend (RQLEDGER_QUEUE_BACKEND=rq)")
    items = services.workers()(services.clock().now())
    if as_json:
        echo_json({"items": items})
        return
    out = console()
    if not items:
        out.print("No workers registered.")
        return
    table = compact_table("Name", "State", "Task", "Heartbeat", "Done", "Failed", "Queues",
                          right=("Task", "Heartbeat", "Done", "Failed"))
    name = table.columns[0]
    name.no_wrap, name.overflow, name.min_width = False, "ellipsis", 12
    for item in items:
        current = item["current_task_id"] if item["current_task_id"] is not None else item["current_job_id"]
        age = item["heartbeat_age"]
        table.add_row(item["name"], item["state"], "-" if current is None else str(current),
                      "-" if age is None else f"{age:.0f}s ago", str(item["successful_jobs"]),
                      str(item["failed_jobs"]), ",".join(item["queues"]))
    out.print(table)


COMMANDS = [workers]
