"""Request schemas: they validate what clients send and, through apiflask, describe it in /openapi.json."""

from __future__ import annotations

from datetime import datetime, timezone

from apiflask import Schema
from marshmallow import fields, validate

from domain.schedule import ScheduleStatus
from domain.task import TaskStatus
from entrypoints.web.fields import Seconds, Text, WholeNumber

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
    args = fields.List(fields.Raw(), load_default=list, metadata={"description": "positional arguments"})
    kwargs = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict,
                         metadata={"description": "keyword arguments"})
    description = Text(10_000, allow_none=True, load_default=None)
    owner = Text(200, allow_none=True, load_default=None,
                 metadata={"description": "a free string for per-user listings"})
    queue = Text(100, min_length=1, allow_none=True, load_default=None)
    timeout = WholeNumber(allow_none=True, load_default=None, validate=validate.Range(min=1),
                          metadata={"description": "seconds before the attempt is failed"})
    retry = fields.Nested(RetryIn, allow_none=True, load_default=None)


class BatchIn(Schema):
    tasks = fields.List(fields.Nested(TaskIn), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class ScheduleIn(Schema):
    """Either `at` (with optional `interval` and `repeat`) or `cron`."""

    name = Text(200, min_length=1, required=True)
    args = fields.List(fields.Raw(), load_default=list)
    kwargs = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)
    description = Text(10_000, allow_none=True, load_default=None)
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
                metadata={"description": "'minute hour day-of-month month day-of-week', in RQLEDGER_TIMEZONE"})


class PageQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE),
                           metadata={"description": f"items per page, 1 to {MAX_PAGE}"})
    cursor = fields.String(load_default=None, validate=CURSOR,
                           metadata={"description": "next_cursor of the previous page"})


class TaskListQuery(PageQuery):
    status = fields.String(load_default=None, validate=_status_list(TaskStatus),
                           metadata={"description": "comma list of statuses"})
    name = Text(200, load_default=None)
    owner = Text(200, load_default=None)


class ScheduleListQuery(PageQuery):
    status = fields.String(load_default=None, validate=_status_list(ScheduleStatus),
                           metadata={"description": "comma list of statuses"})
    name = Text(200, load_default=None)


class EventsQuery(Schema):
    token = fields.String(load_default=None, metadata={
        "description": "the API token, for clients that cannot send headers (EventSource)"})
