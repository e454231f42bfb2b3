"""`rqledger schedules list|show|add|cancel|delete`: schedules from a terminal, through the API's use cases."""

from __future__ import annotations

import click
from rich.table import Table

from rqledger.application.errors import ScheduleNotRegistered
from rqledger.application.ports import ScheduleQuery
from rqledger.application.schedules import ScheduleRequest
from rqledger.domain.schedule import CatchUp, ScheduledTask, ScheduleStatus
from rqledger.entrypoints.command_errors import each_id, one_line_errors
from rqledger.entrypoints.commands.arguments import cursor, moment, parse_argument, parse_kwargs, statuses
from rqledger.entrypoints.commands.context import console, container, echo_json
from rqledger.entrypoints.console import (call_text, compact_table, fitted_call, page_record, print_table,
                                          long_time, schedule_record, short_time, status_text)


@click.group("schedules")
def schedules() -> None:
    """Schedules: list, show, add, cancel, delete."""


@schedules.command("list")
@click.option("--status", "statuses_", multiple=True, metavar="STATUS",
              help="Only these statuses (running, failed, death); repeat or comma-separate.")
@click.option("--name", default=None, help="Only schedules of this task type.")
@click.option("--owner", default=None, help="Only schedules of this owner.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500), help="How many, newest first.")
@click.option("--cursor", "cursor_", default=None, metavar="CURSOR",
              help="Continue below a previous page (its next_cursor, as the API's ?cursor=).")
@click.option("--wide", is_flag=True, help="Show each call whole instead of shortening it to the terminal's width.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the API's page: items, next_cursor).")
@one_line_errors
def list_schedules(statuses_: tuple[str, ...], name: str | None, owner: str | None, limit: int, cursor_: str | None,
                   wide: bool, as_json: bool) -> None:
    """List schedules, newest first, with their timing, next run and last run."""
    query = ScheduleQuery(statuses=statuses(statuses_, ScheduleStatus), name=name, owner=owner, limit=limit,
                          before_id=cursor(cursor_))
    page = container().list_schedules()(query)
    if as_json:
        echo_json(page_record(page, schedule_record))
        return
    out = console()
    if not page.items:
        out.print("No schedules.")
        return
    table = compact_table("ID", "Call", "Status", "Timing", "Runs", "Next (UTC)", "Last", right=("ID", "Runs"))
    call = table.columns[1]
    call.no_wrap, call.min_width = False, 12
    for schedule in page.items:
        last = schedule.last_run
        table.add_row(str(schedule.id), fitted_call(_call(schedule, wide), wide), status_text(schedule.status),
                      timing_text(schedule, short=True), str(schedule.runs_started), short_time(schedule.next_run_at),
                      status_text(last.status) if last else "-")
    print_table(out, table, wide=wide)
    if page.next_cursor is not None:
        out.print(f"(more: --cursor {page.next_cursor})", style="dim")


@schedules.command("show")
@click.argument("schedule_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--runs", default=10, show_default=True, type=click.IntRange(0, 500), help="How many recent runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the schedule and its runs as JSON.")
@one_line_errors
def show_schedule(schedule_id: int, runs: int, as_json: bool) -> None:
    """Show one schedule: its call, timing, next and last run, and its recent runs (newest first)."""
    schedule, recent = container().get_schedule()(schedule_id, recent_runs=runs)
    if as_json:
        echo_json(schedule_record(schedule, recent))
        return
    out = console()
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column()
    last = schedule.last_run
    for key, value in (("id", schedule.id), ("call", _call(schedule, wide=True)), ("description", schedule.description),
                       ("status", status_text(schedule.status)), ("timing", timing_text(schedule)),
                       ("catch up", schedule.catch_up.value), ("queue", schedule.queue), ("owner", schedule.owner),
                       ("runs started", schedule.runs_started),
                       ("next run (UTC)", long_time(schedule.next_run_at)),
                       ("last run", f"{last.status.value}, for {long_time(last.scheduled_at)}" if last else None),
                       ("created (UTC)", long_time(schedule.created_at))):
        fields.add_row(key, "-" if value is None or value == "" else str(value))
    out.print(fields)
    if schedule.log:
        out.print("[bold]log[/]")
        out.print(schedule.log, markup=False, highlight=False)
    if not recent:
        out.print("No runs yet.")
        return
    table = compact_table("Run", "For (UTC)", "Status", "Prog", "Worker", "Started", "Ended", right=("Run", "Prog"))
    for run in recent:
        table.add_row(str(run.id), short_time(run.scheduled_at), status_text(run.status), f"{run.progress}%",
                      run.worker or "-", short_time(run.started_at), short_time(run.ended_at))
    out.print(table)


@schedules.command("add")
@click.argument("name")
@click.option("--arg", "args", multiple=True, metavar="JSON",
              help="A positional argument (repeat, in order); JSON when it parses, else the string itself.")
@click.option("--kwargs", "kwargs_json", default=None, metavar="JSON", help='Keyword arguments, e.g. \'{"url": "…"}\'.')
@click.option("--cron", default=None, metavar="EXPR", help='A cron expression (UTC), e.g. "*/5 * * * *".')
@click.option("--at", "at_text", default=None, metavar="ISO",
              help="The first (or only) run, ISO-8601; without an offset it is UTC. A past time runs at once.")
@click.option("--interval", default=None, type=click.IntRange(min=1), metavar="S",
              help="With --at: run again every S seconds.")
@click.option("--repeat", default=None, type=click.IntRange(min=1), metavar="N", help="With --interval: N runs in all.")
@click.option("--catch-up", "catch_up", type=click.Choice([c.value for c in CatchUp]), default=CatchUp.LATEST.value,
              show_default=True, help="Firings missed while no scheduler ran: run none, the newest once, or each.")
@click.option("--owner", default=None, help="Who the schedule is for (for per-user listings).")
@click.option("--description", default=None, help="What it is for (default: the task type's).")
@click.option("--expect-every", "expect_every", default=None, type=click.IntRange(min=1), metavar="S",
              help="Dead-man check: an alert opens when no run succeeded within S seconds.")
@click.option("--alert-after-failures", "alert_after_failures", default=None, type=click.IntRange(1, 100), metavar="N",
              help="Failed runs in a row that open an alert (default 3).")
@one_line_errors
def add_schedule(name: str, args: tuple[str, ...], kwargs_json: str | None, cron: str | None, at_text: str | None,
                 interval: int | None, repeat: int | None, catch_up: str, owner: str | None,
                 description: str | None, expect_every: int | None, alert_after_failures: int | None) -> None:
    """Schedule task NAME on --cron, or --at a time (with --interval and --repeat to run it again).

    The same NAME, arguments and owner again is the same schedule: it takes the new timing and runs again.
    """
    if (cron is None) == (at_text is None):
        raise click.UsageError("give either --cron EXPR or --at ISO (with --interval S and --repeat N if it repeats)")
    if cron is not None and (interval is not None or repeat is not None):
        raise click.UsageError("--interval and --repeat go with --at, not with --cron")
    request = ScheduleRequest(name=name, args=[parse_argument(a) for a in args], kwargs=parse_kwargs(kwargs_json),
                              description=description, owner=owner, cron=cron,
                              at=moment(at_text) if at_text is not None else None, interval=interval, repeat=repeat,
                              catch_up=catch_up, expect_every=expect_every, alert_after_failures=alert_after_failures)
    try:
        schedule, created = container().register_schedule()(request)
    except ScheduleNotRegistered as exc:
        raise click.ClickException(f"{exc} (it is stored; the scheduler takes it up when it starts)") from None
    next_run = f"next run {long_time(schedule.next_run_at)} UTC" if schedule.next_run_at else "no run ahead"
    click.echo(f"Schedule {schedule.id} {'created' if created else 'updated'}: {_call(schedule, wide=False)}, "
               f"{timing_text(schedule)}; {next_run}. Follow it with: rqledger schedules show {schedule.id}")


@schedules.command("cancel")
@click.argument("schedule_ids", metavar="ID...", nargs=-1, required=True, type=click.IntRange(min=1))
@one_line_errors
def cancel_schedules(schedule_ids: tuple[int, ...]) -> None:
    """Stop schedules for good (status death); their runs stay. Adding the same schedule again revives it."""
    cancel = container().cancel_schedule()
    each_id("schedule", schedule_ids, lambda schedule_id: f"Schedule {cancel(schedule_id).id} canceled.")


@schedules.command("delete")
@click.argument("schedule_ids", metavar="ID...", nargs=-1, required=True, type=click.IntRange(min=1))
@one_line_errors
def delete_schedules(schedule_ids: tuple[int, ...]) -> None:
    """Delete schedules and all their runs."""
    delete = container().delete_schedule()

    def act(schedule_id: int) -> str:
        delete(schedule_id)
        return f"Schedule {schedule_id} deleted."

    each_id("schedule", schedule_ids, act)


def timing_text(schedule: ScheduledTask, short: bool = False) -> str:
    """`cron */5 * * * *`, `at 12-24 18:00:00`, `every 60s from 12-24 18:00:00, 3 runs`; `short` leaves the
    start out (a table shows the next run beside it): `once`, `every 60s ×3`."""
    timing = schedule.timing
    if timing.cron is not None:
        return f"cron {timing.cron}" + ("" if timing.timezone == "UTC" else f" ({timing.timezone})")
    if timing.interval is None:
        return "once" if short else f"at {long_time(timing.at)} UTC"
    if short:
        return f"every {timing.interval}s" + (f" ×{timing.repeat}" if timing.repeat is not None else "")
    runs = f", {timing.repeat} runs" if timing.repeat is not None else ""
    return f"every {timing.interval}s from {long_time(timing.at)} UTC{runs}"


def _call(schedule: ScheduledTask, wide: bool) -> str:
    return call_text(schedule.name, schedule.args, schedule.kwargs, None if wide else 40)


COMMANDS = [schedules]
