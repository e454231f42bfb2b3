"""How the CLI shows tasks: rich tables, one task whole, a progress bar while waiting for one, and the JSON
records of tasks, schedules and runs (the HTTP API's fields: tests/unit/test_cli_json.py holds them equal)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Callable

from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from rqledger.domain.schedule import ScheduledTask, ScheduledTaskInstance
from rqledger.domain.task import Task, TaskStatus

STATUS_STYLE = {"queued": "cyan", "running": "yellow", "finished": "green", "failed": "red", "canceled": "magenta", "death": "dim", "missed": "dim"}


def task_record(task: Task, history: bool = True, waiting: str | None = None) -> dict:
    """A task as JSON-ready data: the API's TaskDetailOut (TaskOut, as in its listings, without `history`)."""
    from rqledger.entrypoints.web.records import task_json

    record = task_json(task, waiting)
    if history:
        record["history"] = [{"number": a.number, "worker": a.worker, "started_at": _iso(a.started_at),
                              "ended_at": _iso(a.ended_at), "outcome": a.outcome.value if a.outcome else None,
                              "error": a.error} for a in task.history]
    return record


def schedule_record(schedule: ScheduledTask, runs: list[ScheduledTaskInstance] | None = None) -> dict:
    """A schedule as the API's ScheduleOut; with `runs`, its ScheduleDetailOut."""
    timing, last = schedule.timing, schedule.last_run
    record = {
        "id": schedule.id, "name": schedule.name, "description": schedule.description, "args": list(schedule.args),
        "kwargs": dict(schedule.kwargs), "status": schedule.status.value, "queue": schedule.queue,
        "owner": schedule.owner, "at": _iso(timing.at), "interval": timing.interval, "repeat": timing.repeat,
        "cron": timing.cron, "timezone": timing.timezone, "catch_up": schedule.catch_up.value,
        "runs_started": schedule.runs_started, "next_run_at": _iso(schedule.next_run_at),
        "last_run": None if last is None else {"status": last.status.value, "scheduled_at": _iso(last.scheduled_at),
                                               "ended_at": _iso(last.ended_at)},
        "log": schedule.log, "expect_every": schedule.expect_every,
        "alert_after_failures": schedule.alert_after_failures, "created_at": _iso(schedule.created_at),
    }
    if runs is not None:
        record["runs"] = [run_record(run) for run in runs]
    return record


def run_record(run: ScheduledTaskInstance) -> dict:
    """A schedule's run as the API's RunOut."""
    return {"id": run.id, "schedule_id": run.schedule_id, "scheduled_at": _iso(run.scheduled_at),
            "status": run.status.value, "progress": run.progress, "result": run.result, "log": run.log,
            "worker": run.worker, "started_at": _iso(run.started_at), "ended_at": _iso(run.ended_at)}


def page_record(page, record: Callable) -> dict:
    """A use case's Page as the API's page: `next_cursor` is a string, passed back as --cursor."""
    cursor = page.next_cursor
    return {"items": [record(item) for item in page.items], "next_cursor": None if cursor is None else str(cursor)}


def call_text(name: str, args, kwargs, limit: int | None = 40) -> str:
    """`name(arg, key=value)`, each value cut at `limit` characters (None: whole)."""
    def short(value) -> str:
        text = json.dumps(value, ensure_ascii=False)
        return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
    return f"{name}({', '.join([short(a) for a in args] + [f'{k}={short(v)}' for k, v in kwargs.items()])})"


def status_text(status) -> str:
    return f"[{STATUS_STYLE.get(status.value, 'white')}]{status.value}[/]"


def compact_table(*columns: str, right: tuple[str, ...] = ()) -> Table:
    """A borderless table, one space between columns; every column stays on one line (`fitted_call` cuts)."""
    table = Table(box=box.SIMPLE, header_style="bold", pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", no_wrap=True)
    return table


def fitted_call(text: str, wide: bool) -> Text:
    """A call cell: shortened with an ellipsis to what the terminal leaves it; whole when `wide`."""
    return Text(text, no_wrap=True, overflow="fold" if wide else "ellipsis")


def tasks_table(tasks: list[Task], wide: bool = False) -> Table:
    """One line per task; the call takes what is left of the terminal's width (print with `print_table`)."""
    table = compact_table("ID", "Call", "Status", "Prog", "Tries", "Created (UTC)", "Ended",
                          right=("ID", "Prog", "Tries"))
    call = table.columns[1]
    call.no_wrap, call.min_width = False, 12  # the one column that gives way on a narrow terminal
    for task in tasks:
        table.add_row(str(task.id), fitted_call(call_text(task.name, task.args, task.kwargs, None if wide else 40), wide),
                      status_text(task.status), f"{task.progress}%", str(task.attempts), short_time(task.created_at),
                      _ended_time(task.created_at, task.ended_at))
    return table


def print_table(console: Console, table: Table, wide: bool = False) -> None:
    """Prints a table; `wide` lets its lines run past the terminal's width instead of cutting them."""
    if wide:
        console.width = max(console.width, console.measure(table, options=console.options.update_width(1 << 16)).maximum)
    console.print(table)


def show_task(console: Console, task: Task, waiting: str | None = None) -> None:
    """Everything about one task: fields, arguments, result, log, attempts."""
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column()
    record = task_record(task, waiting=waiting)
    for key in ("id", "name", "description", "status", "waiting", "progress", "queue", "priority", "timeout", "retry",
                "attempts", "owner", "worker", "created_at", "enqueued_at", "started_at", "ended_at"):
        if key == "waiting" and waiting is None:
            continue
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
            attempts.add_row(str(a.number), a.worker or "-", short_time(a.started_at), short_time(a.ended_at),
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
    """ISO-8601 with a UTC offset, always (a naive time is UTC), as the API writes it."""
    if moment is None:
        return None
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)).isoformat()


def short_time(moment: datetime | None) -> str:
    """Month, day and UTC time: short enough for a table on an 80-column terminal."""
    return _utc(moment).strftime("%m-%d %H:%M:%S") if moment else "-"


def long_time(moment: datetime | None) -> str:
    """The whole UTC time, year included, to the second: for one record's fields."""
    return _utc(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _ended_time(started: datetime | None, ended: datetime | None) -> str:
    """The time alone when it is the same day as `started` (the column beside it), else month and day too."""
    if ended is None:
        return "-"
    same_day = started is not None and _utc(started).date() == _utc(ended).date()
    return _utc(ended).strftime("%H:%M:%S") if same_day else short_time(ended)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc) if moment.tzinfo is not None else moment
