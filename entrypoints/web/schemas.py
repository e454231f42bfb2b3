"""Request schemas: they validate what clients send and, through apiflask, describe it in /openapi.json."""

from __future__ import annotations

from datetime import datetime, timezone

from apiflask import Schema
from marshmallow import fields, validate

from rqledger.domain.alert import AlertKind, AlertStatus
from rqledger.domain.schedule import CatchUp, ScheduleStatus
from rqledger.domain.task import Priority, TaskStatus
from rqledger.entrypoints.web.fields import Moment, Owner, Seconds, Text, WholeNumber

MAX_PAGE = 500
MAX_BATCH = 1000
MAX_RETRY_INTERVAL = 24 * 3600
TEN_YEARS = 10 * 365 * 24 * 3600

# A cursor is the id to continue below: up to 18 digits, so it always fits a 64-bit column.
CURSOR = validate.Regexp(r"^[1-9][0-9]{0,17}$", error="is not a cursor from a previous page's next_cursor")


def _status_list(statuses) -> validate.Regexp:
    names = "|".join(s.value for s in statuses)
    return validate.Regexp(rf"^({names})(,({names}))*$",
                           error=f"must be a comma list of: {', '.join(s.value for s in statuses)}")


class RetryIn(Schema):
    max = WholeNumber(required=True, validate=validate.Range(min=0),
                      metadata={"description": "at most this many more attempts after a failed one"})
    interval = Seconds(MAX_RETRY_INTERVAL, load_default=0,
                       metadata={"description": "seconds before each retry: one number, or one per retry"})


class TaskIn(Schema):
    """A task to run: a registered task type and the arguments of its function."""

    name = Text(200, min_length=1, required=True, metadata={"description": "a registered task type"})
    args = fields.List(fields.Raw(allow_none=True), load_default=list, metadata={"description": "positional arguments"})
    kwargs = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=dict,
                         metadata={"description": "keyword arguments"})
    description = Text(10_000, allow_none=True, load_default=None)
    owner = Owner(allow_none=True,
                  metadata={"description": "who it is for (per-user listings): a string, or an integer stored as "
                                           "its string"})
    queue = Text(100, min_length=1, allow_none=True, load_default=None)
    priority = fields.Enum(Priority, by_value=True, allow_none=True, load_default=None,
                           metadata={"description": "high, normal or low (default: the task type's): a worker takes "
                                                    "every waiting high task of its queues before any normal one, "
                                                    "and normal before low"})
    timeout = WholeNumber(allow_none=True, load_default=None, validate=validate.Range(min=1),
                          metadata={"description": "seconds before the attempt is failed"})
    retry = fields.Nested(RetryIn, allow_none=True, load_default=None)


class PauseIn(Schema):
    """Who pauses the queue and why, both optional: shown to anyone who asks why its tasks wait."""

    reason = Text(500, allow_none=True, load_default=None, metadata={"description": "why, for the people who look"})
    by = Text(200, allow_none=True, load_default=None, metadata={"description": "who paused it"})


class BatchIn(Schema):
    tasks = fields.List(fields.Nested(TaskIn), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class ScheduleIn(Schema):
    """Either `at` (with optional `interval` and `repeat`) or `cron`."""

    name = Text(200, min_length=1, required=True)
    args = fields.List(fields.Raw(allow_none=True), load_default=list)
    kwargs = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=dict)
    description = Text(10_000, allow_none=True, load_default=None)
    owner = Owner(allow_none=True,
                  metadata={"description": "who it is for (per-user listings; part of the schedule's identity): "
                                           "a string, or an integer stored as its string"})
    at = fields.AwareDateTime(
        format="iso", allow_none=True, load_default=None,
        validate=validate.Range(min=datetime(1970, 1, 1, tzinfo=timezone.utc),
                                max=datetime(9000, 1, 1, tzinfo=timezone.utc)),
        metadata={"description": "first (or only) run, ISO-8601 with a UTC offset; a past time runs at once"})
    interval = WholeNumber(allow_none=True, load_default=None, validate=validate.Range(min=1, max=TEN_YEARS),
                           metadata={"description": "seconds between runs"})
    repeat = WholeNumber(allow_none=True, load_default=None, validate=validate.Range(min=1, max=10**9),
                         metadata={"description": "runs in all (omit: forever)"})
    cron = Text(200, allow_none=True, load_default=None,
                metadata={"description": "'minute hour day-of-month month day-of-week', in `timezone`"})
    timezone = Text(64, min_length=1, allow_none=True, load_default=None,
                    metadata={"description": "the IANA time zone of `cron` (e.g. Europe/Paris; default: the "
                                             "service's RQLEDGER_TIMEZONE); only with `cron`"})
    catch_up = fields.Enum(CatchUp, by_value=True, load_default=CatchUp.LATEST,
                           metadata={"description": "firings missed while no scheduler ran are recorded as missed "
                                                    "runs; then skip runs none, latest (default) the newest once, "
                                                    "now, and all each of them (at most RQLEDGER_MAX_MISSED_RUNS)"})
    expect_every = WholeNumber(allow_none=True, load_default=None, validate=validate.Range(min=1, max=366 * 86400),
                               metadata={"description": "the dead-man check: a run must succeed at least every this "
                                                        "many seconds, else a schedule.deadman alert opens"})
    alert_after_failures = WholeNumber(allow_none=True, load_default=None, validate=validate.Range(min=1, max=100),
                                       metadata={"description": "failed runs in a row that open a schedule.failing "
                                                                "alert (default 3)"})


class PageQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE),
                           metadata={"description": f"items per page, 1 to {MAX_PAGE}"})
    cursor = fields.String(load_default=None, validate=CURSOR,
                           metadata={"description": "next_cursor of the previous page"})


def moment(description: str) -> Moment:
    return Moment(load_default=None, metadata={"description": f"{description}: ISO 8601 (without an offset: UTC)"})


class TaskListQuery(PageQuery):
    status = fields.String(load_default=None, validate=_status_list(TaskStatus),
                           metadata={"description": "comma list of statuses"})
    name = Text(200, load_default=None)
    owner = Text(200, load_default=None)
    queue = Text(100, load_default=None)
    since = moment("created at or after this time")
    until = moment("created before this time (not after `since`)")
    q = Text(200, load_default=None, metadata={
        "description": "search: a whole number finds the task with that id; other text, every task that holds "
                       "it (in any case) in its name, arguments, result, description or log"})


class ScheduleListQuery(PageQuery):
    status = fields.String(load_default=None, validate=_status_list(ScheduleStatus),
                           metadata={"description": "comma list of statuses"})
    name = Text(200, load_default=None)
    owner = Text(200, load_default=None)


class AlertListQuery(PageQuery):
    status = fields.String(load_default=None, validate=_status_list(AlertStatus),
                           metadata={"description": "comma list: open, resolved"})
    kind = fields.Enum(AlertKind, by_value=True, load_default=None)


class EventsQuery(Schema):
    token = fields.String(load_default=None, metadata={
        "description": "the API token, for clients that cannot send headers (EventSource)"})
