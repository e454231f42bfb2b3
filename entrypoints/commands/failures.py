"""`rqledger failures`: the recent failed tasks grouped by task type and error, to see what breaks and how often."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import click

from rqledger.application.ports import TaskQuery
from rqledger.domain.task import Task, TaskStatus
from rqledger.entrypoints.command_errors import one_line_errors
from rqledger.entrypoints.commands.context import console, container, echo_json
from rqledger.entrypoints.console import compact_table, fitted_call, print_table, short_time

_PAGE = 500
_LOG_PREFIX = re.compile(r"^\[[^\]]*\]\s*(attempt \d+ )?(failed: )?")  # "[2026-…] attempt 2 failed: "


@dataclass
class FailureGroup:
    """Failed tasks of one type that ended with the same error (its first line)."""

    name: str
    error: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    sample_id: int

    def record(self) -> dict:
        return {"name": self.name, "error": self.error, "count": self.count,
                "first_seen": self.first_seen.isoformat() if self.first_seen else None,
                "last_seen": self.last_seen.isoformat() if self.last_seen else None, "sample_id": self.sample_id}


@click.command("failures")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10_000),
              help="How many of the newest failed tasks to look at.")
@click.option("--name", default=None, help="Only tasks of this type.")
@click.option("--wide", is_flag=True, help="Show each error line whole instead of shortening it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: items of name, error, count, first_seen, "
                                                       "last_seen, sample_id; and how many tasks were examined.")
@one_line_errors
def failures(limit: int, name: str | None, wide: bool, as_json: bool) -> None:
    """The newest failed tasks grouped by task type and the first line of their error, most frequent first.

    Each group says how many, when the first and the last of them ended (UTC) and one task's id to look at
    with `rqledger show ID`; `rqledger retry ID...` queues them again.
    """
    failed = _newest_failed(container().list_tasks(), limit, name)
    groups = group_failures(failed)
    if as_json:
        echo_json({"items": [g.record() for g in groups], "examined": len(failed)})
        return
    out = console()
    if not groups:
        out.print("No failed tasks.")
        return
    table = compact_table("Count", "Task", "Error", "First seen", "Last seen", "Sample", right=("Count", "Sample"))
    error = table.columns[2]
    error.no_wrap, error.min_width = False, 16
    for group in groups:
        table.add_row(str(group.count), group.name, fitted_call(group.error, wide), short_time(group.first_seen),
                      short_time(group.last_seen), str(group.sample_id))
    print_table(out, table, wide=wide)
    out.print(f"(the newest {len(failed)} failed task{'s' * (len(failed) != 1)}; --limit looks further back)",
              style="dim")


def group_failures(tasks: list[Task]) -> list[FailureGroup]:
    """Groups by (name, error line); most frequent first, then the most recent. `tasks` come newest first."""
    groups: dict[tuple[str, str], FailureGroup] = {}
    for task in tasks:
        seen = task.ended_at or task.created_at
        key = (task.name, error_line(task))
        group = groups.get(key)
        if group is None:
            groups[key] = FailureGroup(task.name, key[1], 1, seen, seen, task.id)
            continue
        group.count += 1
        if seen is not None:
            group.first_seen = seen if group.first_seen is None else min(group.first_seen, seen)
            group.last_seen = seen if group.last_seen is None else max(group.last_seen, seen)
    return sorted(groups.values(), key=lambda g: (-g.count, -(g.last_seen.timestamp() if g.last_seen else 0)))


def error_line(task: Task) -> str:
    """The first line of the last attempt's error; for a task that never ran (the queue refused it), its log's."""
    for attempt in reversed(task.history):
        if attempt.error and attempt.error.strip():
            return attempt.error.strip().splitlines()[0]
    lines = [line for line in task.log.splitlines() if line.startswith("[")]
    return _LOG_PREFIX.sub("", lines[-1]).strip() if lines else "(no error recorded)"


def _newest_failed(list_tasks, limit: int, name: str | None) -> list[Task]:
    found: list[Task] = []
    before = None
    while len(found) < limit:
        page = list_tasks(TaskQuery(statuses=frozenset({TaskStatus.FAILED}), name=name,
                                    limit=min(_PAGE, limit - len(found)), before_id=before))
        found.extend(page.items)
        before = page.next_cursor
        if before is None:
            break
    return found


COMMANDS = [failures]
