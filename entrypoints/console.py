"""How the CLI shows tasks: rich tables, one task whole, and a progress bar while waiting for one."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Callable

from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from domain.task import Task, TaskStatus

STATUS_STYLE = {"queued": "cyan", "running": "yellow", "finished": "green", "failed": "red", "canceled": "magenta"}


def task_record(task: Task) -> dict:
    """A task as JSON-ready data (the same fields as the HTTP API)."""
    return {
        "id": task.id, "name": task.name, "description": task.description, "status": task.status.value,
        "failed": task.status is TaskStatus.FAILED, "progress": task.progress, "result": task.result,
        "log": task.log, "args": task.args, "kwargs": task.kwargs, "queue": task.queue, "timeout": task.timeout,
        "retry": task.retry_policy.to_dict() if task.retry_policy else None, "attempts": task.attempts,
        "owner": task.owner, "worker": task.worker, "created_at": _iso(task.created_at),
        "enqueued_at": _iso(task.enqueued_at), "started_at": _iso(task.started_at), "ended_at": _iso(task.ended_at),
        "history": [{"number": a.number, "worker": a.worker, "started_at": _iso(a.started_at),
                     "ended_at": _iso(a.ended_at), "outcome": a.outcome.value if a.outcome else None,
                     "error": a.error} for a in task.history],
    }


def call_text(task: Task, limit: int = 40) -> str:
    """`name(arg, key=value)` with long values cut."""
    def short(value) -> str:
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= limit else text[: limit - 1] + "…"
    return f"{task.name}({', '.join([short(a) for a in task.args] + [f'{k}={short(v)}' for k, v in task.kwargs.items()])})"


def status_text(status: TaskStatus) -> str:
    return f"[{STATUS_STYLE.get(status.value, 'white')}]{status.value}[/]"


def tasks_table(tasks: list[Task]) -> Table:
    table = Table(box=box.SIMPLE, header_style="bold", pad_edge=False, show_edge=False,
                  collapse_padding=True)
    for column in ("ID", "Call", "Status", "Progress", "Attempts", "Created (UTC)", "Ended"):
        # the call folds onto more lines on a narrow terminal; numbers and times never do
        table.add_column(column, justify="right" if column in ("ID", "Progress", "Attempts") else "left",
                         overflow="fold", no_wrap=column != "Call", min_width={"Call": 12, "Created (UTC)": 14, "Ended": 14}.get(column))
    for task in tasks:
        table.add_row(str(task.id), call_text(task), status_text(task.status), f"{task.progress}%",
                      str(task.attempts), _short_time(task.created_at), _short_time(task.ended_at))
    return table


def show_task(console: Console, task: Task) -> None:
    """Everything about one task: fields, arguments, result, log, attempts."""
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column()
    record = task_record(task)
    for key in ("id", "name", "description", "status", "progress", "queue", "timeout", "retry", "attempts",
                "owner", "worker", "created_at", "enqueued_at", "started_at", "ended_at"):
        value = record[key]
        if key == "status":
            value = status_text(task.status)
        elif key == "progress":
            value = f"{value}%"
        elif isinstance(value, (dict, list)):
            value = json.dumps(value)
        fields.add_row(key, "-" if value is None or value == "" else str(value))
    console.print(fields)
    console.print("[bold]args[/]")
    console.print_json(data=task.args)
    console.print("[bold]kwargs[/]")
    console.print_json(data=task.kwargs)
    console.print("[bold]result[/]")
    if task.result is None:
        console.print("-")
    else:
        console.print_json(data=task.result)
    if task.history:
        attempts = Table(header_style="bold", title="attempts", title_justify="left")
        for column in ("#", "Worker", "Started", "Ended", "Outcome", "Error"):
            attempts.add_column(column)
        for a in task.history:
            attempts.add_row(str(a.number), a.worker or "-", _short_time(a.started_at), _short_time(a.ended_at),
                             a.outcome.value if a.outcome else "-", (a.error or "").splitlines()[0] if a.error else "")
        console.print(attempts)
    console.print("[bold]log[/]")
    console.print(task.log or "-", markup=False, highlight=False)


def wait_with_progress(console: Console, get: Callable[[], Task], poll: float = 0.25) -> Task:
    """Polls `get` until the task ends, drawing a progress bar; returns the ended task."""
    task = get()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[status]}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task(f"#{task.id} {task.name}", total=100, completed=task.progress,
                                status=status_text(task.status))
        while not task.status.ended:
            time.sleep(poll)
            task = get()
            progress.update(bar, completed=task.progress, status=status_text(task.status))
        progress.update(bar, completed=100 if task.status is TaskStatus.FINISHED else task.progress,
                        status=status_text(task.status))
    return task


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _short_time(moment: datetime | None) -> str:
    """Month, day and UTC time: short enough for a table on an 80-column terminal."""
    return moment.strftime("%m-%d %H:%M:%S") if moment else "-"
