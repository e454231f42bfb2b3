"""The dashboard: server-rendered pages, and their sections as HTML fragments the pages' script re-fetches.

The pages: the overview (/: what runs, what ended, the charts), one task's (/tasks/<id>), the schedules (/schedules, /schedules/<id>), the task list (/list: filters and an "older" cursor in
the query string, bulk actions on the selected rows), the failures grouped by fingerprint (/failures), the
queues with their pause and resume (/queues, an admin's) and the alerts (/alerts, an admin's).

Every section is rendered here, by Jinja, from the same use cases as the API (through
`context.container()`, so an owner sees only their own tasks); the script only swaps
fragments in, moves progress bars on events and sends the buttons' API calls. Open, or
behind the host app's login (the Flask extension), the page arrives with its sections
already filled; with an API token it arrives empty and the script fetches them with the
token (fragments need it, like the API). Every address in the page is built from where
the blueprint is mounted (`data-base`), so it works under any prefix.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timezone
from urllib.parse import urlencode

from apiflask import HTTPError
from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from rqledger.application.errors import AdapterError
from rqledger.application.failures import group_failures
from rqledger.application.ports import AlertQuery, ScheduleQuery, TaskQuery
from rqledger.domain.alert import AlertStatus
from rqledger.domain.errors import ScheduleNotFound, TaskNotFound
from rqledger.domain.task import TaskStatus
from rqledger.entrypoints.web import access, charts
from rqledger.entrypoints.web.context import container
from rqledger.entrypoints.web.schemas import moment

bp = Blueprint("dashboard", __name__, static_folder="static", static_url_path="/static",
               template_folder="templates")
bp.add_app_template_filter(charts.seconds, "rqledger_seconds")

RECENT = 15
LIST_PAGE = 50
FAILURES_WINDOW = 500  # the failures page groups the newest this many failed tasks
SCHEDULE_RUNS = 100  # runs shown on a schedule's page


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
    "charts": lambda: charts.overview(container().chart_tasks()()),
}


def _page(template: str, status: int = 200, **values):
    """A full page: what every page's frame needs (where it is mounted, how it authenticates, who asks)."""
    base = url_for(".page").rstrip("/")  # "" at the root, "/tasks" under the Flask extension's prefix
    return render_template(template, token_required=access.uses_tokens(), base=base, session=access.uses_login(),
                           actor=access.current(), **values), status


@bp.get("/")
def page():
    sections = {}
    if not access.uses_tokens():
        try:
            sections = {name: load() for name, load in SECTIONS.items()}
        except AdapterError:
            sections = {}  # the script fetches them and shows why they fail
    return _page("rqledger/dashboard.html", sections=sections)


@bp.get("/tasks/<id:task_id>")
def task_page(task_id: int):
    """One task: its call, timings, live progress, result, log and attempts, with its actions. Another owner's
    task is "no such task", as in the API. With tokens the page arrives empty and the script fills it in."""
    task = None
    if not access.uses_tokens():
        try:
            task = container().get_task()(task_id)
        except TaskNotFound:
            return _page("rqledger/task.html", 404, task_id=task_id, task=None, missing=True)
        except AdapterError:
            task = None  # the script fetches it and shows why it fails
    return _page("rqledger/task.html", task_id=task_id, task=task, missing=False)


@bp.get("/list")
def list_page():
    """Every task, newest first, filtered by the query string (?status=failed&status=canceled&name=&owner=&queue=
    &since=&until=&q=), one page at a time (?cursor=); ?q=#<id> goes to that task's page. Filters that cannot be
    read (a date, since after until) make it a 400 that says what to write instead."""
    wanted = (request.args.get("q") or "").strip()
    if re.fullmatch(r"#[1-9][0-9]{0,17}", wanted):
        return redirect(url_for(".task_page", task_id=int(wanted[1:])))
    filters = _filters()
    listing = None
    if not access.uses_tokens() and not filters.refused:
        try:
            listing = _listing(filters)
        except AdapterError:
            listing = None  # the script fetches it and shows why it fails
    return _page("rqledger/list.html", 400 if filters.refused else 200, filters=filters, listing=listing,
                 statuses=list(TaskStatus),
                 section_path="/dashboard/sections/list" + (f"?{filters.query}" if filters.query else ""))


@bp.get("/failures")
def failures_page():
    """The newest failed tasks grouped by what went wrong (application/failures.py)."""
    failures = None
    if not access.uses_tokens():
        try:
            failures = _failures()
        except AdapterError:
            failures = None
    return _page("rqledger/failures.html", failures=failures, window=FAILURES_WINDOW)


@bp.get("/schedules")
def schedules_page():
    """Every schedule, newest first, 50 a page (?cursor=), each with its timing in words, its next run and its
    last runs as a strip; cancel and delete."""
    cursor = _schedule_cursor()
    listing = None
    if not access.uses_tokens():
        try:
            listing = _schedule_listing(cursor)
        except AdapterError:
            listing = None
    path = "/dashboard/sections/schedules_list" + (f"?cursor={cursor}" if cursor else "")
    return _page("rqledger/schedules.html", listing=listing, section_path=path)


@bp.get("/schedules/<id:schedule_id>")
def schedule_page(schedule_id: int):
    """One schedule: its call, timing, owner, queue, catch-up policy, alert thresholds, log, and its last 100 runs."""
    found = None
    if not access.uses_tokens():
        try:
            found = container().get_schedule()(schedule_id, recent_runs=SCHEDULE_RUNS)
        except ScheduleNotFound:
            return _page("rqledger/schedule.html", 404, schedule_id=schedule_id, found=None, missing=True)
        except AdapterError:
            found = None
    return _page("rqledger/schedule.html", schedule_id=schedule_id, found=found, missing=False)


@bp.get("/dashboard/sections/schedules_list")
def schedules_list_section():
    return render_template("rqledger/section_schedules_list.html", listing=_schedule_listing(_schedule_cursor()))


@bp.get("/dashboard/sections/schedule/<id:schedule_id>")
def schedule_section(schedule_id: int):
    return render_template("rqledger/section_schedule.html",
                           found=container().get_schedule()(schedule_id, recent_runs=SCHEDULE_RUNS))


def _schedule_cursor() -> int | None:
    text = request.args.get("cursor") or ""
    return int(text) if re.fullmatch(r"[1-9][0-9]{0,17}", text) else None


def _schedule_listing(cursor: int | None) -> dict:
    c = container()
    page = c.list_schedules()(ScheduleQuery(limit=LIST_PAGE, before_id=cursor))
    list_runs = c.list_runs()
    return {"schedules": [(s, list_runs(s.id, limit=12).items) for s in page.items],
            "next_cursor": page.next_cursor, "cursor": cursor}


@bp.get("/queues")
def queues_page():
    """Every queue: paused or not, what waits in Redis by priority, the ledger's queued and running tasks, and
    Pause / Resume. An admin's page: queues are shared by every owner."""
    return _admin_page("rqledger/queues.html", "queues", _queues)


@bp.get("/alerts")
def alerts_page():
    """Open alerts first, then the recently resolved ones, each with its webhook deliveries. An admin's page."""
    return _admin_page("rqledger/alerts.html", "alerts", _alerts)


def _admin_page(template: str, name: str, load):
    """A page of what only an admin may see: filled in (or, for an owner, the refusal) unless tokens are in use,
    when the script fetches its section with the token."""
    values, refused = None, None
    if not access.uses_tokens():
        try:
            values = load()
        except HTTPError as exc:  # an owner: the scoped container refuses
            refused = exc.message
        except AdapterError:
            values = None  # the script fetches it and shows why it fails
    return _page(template, **{name: values, "refused": refused})


@bp.get("/dashboard/sections/alerts")
def alerts_section():
    return render_template("rqledger/section_alerts.html", alerts=_alerts())


def _alerts() -> dict:
    c = container()
    opened = c.list_alerts()(AlertQuery(statuses=frozenset({AlertStatus.OPEN}), limit=100)).items
    resolved = c.list_alerts()(AlertQuery(statuses=frozenset({AlertStatus.RESOLVED}), limit=RECENT)).items
    get = c.get_alert()
    deliveries = {alert.id: get(alert.id)[1] for alert in opened}
    return {"open": opened, "resolved": resolved, "deliveries": deliveries}


@bp.get("/dashboard/sections/queues")
def queues_section():
    return render_template("rqledger/section_queues.html", queues=_queues())


def _queues() -> dict:
    c = container()
    try:
        workers = c.workers()(c.clock().now())
    except AdapterError:
        workers = None  # Redis did not answer: the queues still show the ledger's side
    return {"states": c.list_queues()(), "workers": workers, "worker_ttl": c.config.worker_ttl() or 30.0}


@bp.get("/dashboard/sections/list")
def list_section():
    filters = _filters()
    if filters.refused:
        raise HTTPError(400, "; ".join(filters.refused))
    return render_template("rqledger/section_list.html", filters=filters, listing=_listing(filters))


@bp.get("/dashboard/sections/failures")
def failures_section():
    return render_template("rqledger/section_failures.html", failures=_failures(), window=FAILURES_WINDOW)


@bp.get("/dashboard/sections/task/<id:task_id>")
def task_section(task_id: int):
    return render_template("rqledger/section_task.html", t=container().get_task()(task_id))


@bp.get("/dashboard/sections/<name>")
def section(name: str):
    if name not in SECTIONS:
        abort(404)
    return render_template(f"rqledger/section_{name}.html", **SECTIONS[name]())


# -- the task list and the failures ---------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Filters:
    """The task list's filters, as read from the query string. What could not be read is in `errors` (ignored,
    the rest still shown) or, when showing the rest would mislead (a time range or search that cannot be
    read), in `refused` (a 400)."""

    statuses: tuple[str, ...] = ()
    name: str = ""
    owner: str = ""
    queue: str = ""
    since: str = ""
    until: str = ""
    q: str = ""
    cursor: int | None = None
    errors: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    created_since: datetime | None = None
    created_until: datetime | None = None

    def pairs(self, cursor: int | None = None) -> list[tuple[str, str]]:
        pairs = [("status", s) for s in self.statuses]
        pairs += [(k, v) for k, v in self._texts() if v]
        return pairs + ([("cursor", str(cursor))] if cursor is not None else [])

    def _texts(self) -> list[tuple[str, str]]:
        return [("name", self.name), ("owner", self.owner), ("queue", self.queue), ("since", self.since),
                ("until", self.until), ("q", self.q)]

    @property
    def query(self) -> str:
        """The query string of this very page (its section is fetched with it)."""
        return urlencode(self.pairs(self.cursor))

    def older(self, cursor: int) -> str:
        return urlencode(self.pairs(cursor))

    @property
    def newest(self) -> str:
        return urlencode(self.pairs())

    @property
    def api_query(self) -> str:
        """The same filters for GET /api/tasks (every matching task, for a bulk action on all of them)."""
        pairs = [("status", ",".join(self.statuses))] if self.statuses else []
        return urlencode(pairs + [(k, v) for k, v in self._texts() if v])


_MOMENT = {"since": moment("since"), "until": moment("until")}


def _filters() -> Filters:
    args, errors, refused = request.args, [], []
    known = {s.value for s in TaskStatus}
    given = [part.strip() for value in args.getlist("status") for part in value.split(",") if part.strip()]
    statuses = tuple(s.value for s in TaskStatus if s.value in given)  # in the statuses' own order, once each
    errors += [f"{s!r} is not a status (one of: {', '.join(sorted(known))})" for s in given if s not in known]
    given_cursor = (args.get("cursor") or "").strip()
    cursor = int(given_cursor) if re.fullmatch(r"[1-9][0-9]{0,17}", given_cursor) else None
    if given_cursor and cursor is None:
        errors.append("that cursor is not one from an 'older' link: showing the newest")
    text = {key: (args.get(key) or "").strip()[:200] for key in ("name", "owner", "queue", "since", "until", "q")}
    for key, value in text.items():
        if "\x00" in value:
            refused.append(f"{key!r} holds a NUL character (%00): remove it")
            text[key] = value.replace("\x00", "")
    moments = {}
    for key, field in _MOMENT.items():
        try:
            moments[key] = field.deserialize(text[key]) if text[key] else None
        except ValidationError as exc:
            refused.append(f"{key} {text[key]!r} {' '.join(exc.messages)}")
            moments[key] = None
    if moments["since"] and moments["until"] and moments["since"] > moments["until"]:
        refused.append(f"since ({text['since']}) is after until ({text['until']}): no task can match; swap them")
    return Filters(statuses, cursor=cursor, errors=tuple(errors), refused=tuple(refused),
                   created_since=moments["since"], created_until=moments["until"], **text)


def _listing(f: Filters) -> dict:
    """One page of the list: `tasks`, and `next_cursor` (None on the last page)."""
    query = TaskQuery(statuses=frozenset(TaskStatus(s) for s in f.statuses), name=f.name or None,
                      owner=f.owner or None, queue=f.queue or None, created_since=f.created_since,
                      created_until=f.created_until, text=f.q or None, limit=LIST_PAGE, before_id=f.cursor)
    page = container().list_tasks()(query)
    return {"tasks": page.items, "next_cursor": page.next_cursor}


def _failures() -> dict:
    page = container().list_tasks()(TaskQuery(statuses=frozenset({TaskStatus.FAILED}), limit=FAILURES_WINDOW))
    return {"groups": group_failures(page.items), "tasks": len(page.items), "more": page.next_cursor is not None}


@bp.app_template_filter("rqledger_waiting")
def waiting(task) -> str:
    """Why a queued task does not start ("queue 'x' is paused (...)"), or "": the pauses are read once per request."""
    if task.status is not TaskStatus.QUEUED:
        return ""
    if "rqledger_pauses" not in g:
        try:
            g.rqledger_pauses = container().queue_pauses().paused()
        except AdapterError:
            g.rqledger_pauses = {}
    pause = g.rqledger_pauses.get(task.queue)
    return pause.describe() if pause is not None else ""


@bp.app_template_filter("rqledger_when")
def when(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@bp.app_template_filter("rqledger_iso")
def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


@bp.app_template_filter("rqledger_duration")
def duration(task) -> str:
    if task.started_at is None or task.ended_at is None:
        return "–"
    seconds = (task.ended_at - task.started_at).total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


@bp.app_template_filter("rqledger_between")
def between(end: datetime | None, start: datetime | None) -> str:
    """`end|rqledger_between(start)`: how long from start to end, as people read it ("–" when either is unknown)."""
    if start is None or end is None:
        return "–"
    return charts.seconds(max(0.0, (end - start).total_seconds()))


@bp.app_template_filter("rqledger_json")
def as_json(value) -> str:
    """The value as indented JSON, for reading and copying whole."""
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


@bp.app_template_filter("rqledger_call")
def call(item, width: int = 90) -> str:
    """A task or schedule as a function call: example(3, text='hi')."""
    parts = [json.dumps(a, ensure_ascii=False) for a in item.args]
    parts += [f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in item.kwargs.items()]
    text = f"{item.name}({', '.join(parts)})"
    return text if len(text) <= width else text[: width - 1] + "…"


@bp.app_template_filter("rqledger_pretty")
def pretty(value) -> str:
    if isinstance(value, dict) and set(value) == {"result"}:
        value = value["result"]
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return compact if len(compact) <= 60 else json.dumps(value, ensure_ascii=False, indent=2)


@bp.app_template_filter("rqledger_last_line")
def last_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


@bp.app_template_filter("rqledger_timing")
def timing(schedule) -> str:
    """The timing in words: "every day at 03:00 (Europe/Seoul)", "every 5 min from ...", "once at ..."."""
    t = schedule.timing
    if t.cron is not None:
        return f"{cron_words(t.cron)} ({t.timezone})"
    if t.interval is None:
        return f"once at {when(t.at)}"
    times = f", {t.repeat} runs" if t.repeat else ""
    return f"every {_interval(t.interval)} from {when(t.at)}{times}"


_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def cron_words(expression: str) -> str:
    """The common cron shapes in words; any other is shown as it is ("cron 0 3 1-7 * 1")."""
    fields = expression.split()
    if len(fields) != 5:
        return f"cron {expression}"
    minute, hour, day, month, weekday = fields
    number = re.compile(r"\d{1,2}$")
    at = f"{int(hour):02d}:{int(minute):02d}" if number.match(minute) and number.match(hour) else None
    if (minute, hour, day, month, weekday) == ("*", "*", "*", "*", "*"):
        return "every minute"
    if minute.startswith("*/") and minute[2:].isdigit() and (hour, day, month, weekday) == ("*", "*", "*", "*"):
        return f"every {int(minute[2:])} min"
    if number.match(minute) and (hour, day, month, weekday) == ("*", "*", "*", "*"):
        return f"every hour at :{int(minute):02d}"
    if at and (day, month) == ("*", "*"):
        if weekday == "*":
            return f"every day at {at}"
        if weekday.isdigit() and int(weekday) < len(_DAYS):
            return f"every {_DAYS[int(weekday)]} at {at}"
        if weekday == "1-5":
            return f"every weekday at {at}"
    if at and number.match(day) and (month, weekday) == ("*", "*"):
        return f"on day {int(day)} of every month at {at}"
    return f"cron {expression}"


def _interval(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


@bp.app_template_filter("rqledger_schedule_state")
def schedule_state(schedule) -> tuple[str, str]:
    """(label, badge class) that read right: "done" for a schedule that has run its course, "canceled", "last run
    failed" for one that still fires, "active"."""
    if schedule.status.value == "death":
        return ("done", "finished") if schedule.exhausted else ("canceled", "canceled")
    if schedule.status.value == "failed":
        return ("last run failed", "failed")
    return ("active", "running")
