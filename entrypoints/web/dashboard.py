"""The dashboard: a server-rendered page, and its sections as HTML fragments the page's script re-fetches.

Every section is rendered here, by Jinja, from the same use cases as the API;
the script only swaps fragments in, moves progress bars on events and sends
the buttons' API calls. With no API token set, the page arrives with its
sections already filled; with one, it arrives empty and the script fetches
them with the token (fragments need it, like the API).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from flask import Blueprint, abort, render_template

from application.errors import AdapterError
from application.ports import ScheduleQuery, TaskQuery
from domain.task import TaskStatus
from entrypoints.web.context import container

bp = Blueprint("dashboard", __name__)

RECENT = 15


def _tasks(*statuses: TaskStatus, limit: int = RECENT) -> list:
    return container().list_tasks()(TaskQuery(statuses=frozenset(statuses), limit=limit)).items


def _running_first(tasks: list) -> list:
    """Running tasks (newest start first) above queued ones (next to run first): the order work happens in."""
    running = sorted((t for t in tasks if t.status is TaskStatus.RUNNING), key=lambda t: t.id, reverse=True)
    queued = sorted((t for t in tasks if t.status is TaskStatus.QUEUED), key=lambda t: t.id)
    return running + queued


def _schedules() -> list:
    c = container()
    schedules = c.list_schedules()(ScheduleQuery(limit=50)).items
    list_runs = c.list_runs()
    return [(schedule, list_runs(schedule.id, limit=6).items) for schedule in schedules]


SECTIONS = {
    "active": lambda: {"tasks": _running_first(_tasks(TaskStatus.RUNNING, TaskStatus.QUEUED, limit=100))},
    "finished": lambda: {"tasks": _tasks(TaskStatus.FINISHED)},
    "failed": lambda: {"tasks": _tasks(TaskStatus.FAILED, TaskStatus.CANCELED)},
    "schedules": lambda: {"schedules": _schedules()},
}


@bp.get("/")
def page():
    token_required = bool(container().config.api_token())
    sections = {}
    if not token_required:
        try:
            sections = {name: load() for name, load in SECTIONS.items()}
        except AdapterError:
            sections = {}  # the script fetches them and shows why they fail
    return render_template("dashboard.html", token_required=token_required, sections=sections)


@bp.get("/dashboard/sections/<name>")
def section(name: str):
    if name not in SECTIONS:
        abort(404)
    return render_template(f"section_{name}.html", **SECTIONS[name]())


@bp.app_template_filter("when")
def when(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@bp.app_template_filter("iso")
def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


@bp.app_template_filter("duration")
def duration(task) -> str:
    if task.started_at is None or task.ended_at is None:
        return "–"
    seconds = (task.ended_at - task.started_at).total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


@bp.app_template_filter("call")
def call(item, width: int = 90) -> str:
    """A task or schedule as a function call: example(3, text='hi')."""
    parts = [json.dumps(a, ensure_ascii=False) for a in item.args]
    parts += [f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in item.kwargs.items()]
    text = f"{item.name}({', '.join(parts)})"
    return text if len(text) <= width else text[: width - 1] + "…"


@bp.app_template_filter("pretty")
def pretty(value) -> str:
    if isinstance(value, dict) and set(value) == {"result"}:
        value = value["result"]
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return compact if len(compact) <= 60 else json.dumps(value, ensure_ascii=False, indent=2)


@bp.app_template_filter("last_line")
def last_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


@bp.app_template_filter("timing")
def timing(schedule) -> str:
    t = schedule.timing
    if t.cron is not None:
        return f"cron {t.cron} ({t.timezone})"
    if t.interval is None:
        return f"once at {when(t.at)}"
    times = f", {t.repeat} runs" if t.repeat else ""
    return f"every {t.interval} s from {when(t.at)}{times}"
