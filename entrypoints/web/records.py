"""Response schemas: how tasks, schedules and runs look in JSON (and in /openapi.json)."""

from __future__ import annotations

from datetime import timezone

from apiflask import Schema
from marshmallow import fields

from rqledger.domain.schedule import CatchUp, RunStatus, ScheduleStatus
from rqledger.domain.task import AttemptOutcome, Priority, TaskStatus
from rqledger.entrypoints.web.schemas import MAX_RETRY_INTERVAL


class Timestamp(fields.DateTime):
    """ISO-8601 with a UTC offset, always (a naive value is taken as UTC)."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", allow_none=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


def _json(description: str = "", **kwargs):
    return fields.Raw(metadata={"description": description} if description else {}, **kwargs)


class RetryOut(Schema):
    max = fields.Integer()
    interval = fields.Raw(metadata={"oneOf": [
        {"type": "number"}, {"type": "array", "items": {"type": "number", "maximum": MAX_RETRY_INTERVAL}}]})


class AttemptOut(Schema):
    number = fields.Integer()
    worker = fields.String(allow_none=True)
    started_at = Timestamp()
    ended_at = Timestamp()
    outcome = fields.Enum(AttemptOutcome, by_value=True, allow_none=True)
    error = fields.String(allow_none=True)


class TaskOut(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    status = fields.Enum(TaskStatus, by_value=True)
    failed = fields.Function(lambda task: task.status is TaskStatus.FAILED, metadata={"type": "boolean"})
    progress = fields.Integer(metadata={"minimum": 0, "maximum": 100})
    result = fields.Dict(allow_none=True, metadata={"description": "a dict result as is; else {\"result\": value}"})
    log = fields.String()
    args = fields.List(_json())
    kwargs = fields.Dict(keys=fields.String(), values=_json())
    queue = fields.String()
    priority = fields.Enum(Priority, by_value=True)
    timeout = fields.Integer(allow_none=True)
    retry = fields.Nested(RetryOut, attribute="retry_policy", allow_none=True)
    attempts = fields.Integer()
    owner = fields.String(allow_none=True)
    worker = fields.String(allow_none=True)
    created_at = Timestamp()
    enqueued_at = Timestamp()
    started_at = Timestamp()
    ended_at = Timestamp()
    waiting = fields.String(allow_none=True, dump_default=None,
                            metadata={"description": "why a queued task does not start: its queue is paused"})


class TaskDetailOut(TaskOut):
    history = fields.List(fields.Nested(AttemptOut), metadata={"description": "every attempt, oldest first"})


class TaskPageOut(Schema):
    items = fields.List(fields.Nested(TaskOut))
    next_cursor = fields.String(allow_none=True, metadata={"description": "pass as ?cursor= for the next page"})


class TaskBatchOut(Schema):
    items = fields.List(fields.Nested(TaskOut))


class ParameterOut(Schema):
    name = fields.String()
    type = fields.String(allow_none=True, metadata={"description": "int, float, str, bool, list, dict or null"})
    required = fields.Boolean()
    nullable = fields.Boolean()
    default = _json("present when not required")


class WaitingOut(Schema):
    high = fields.Integer()
    normal = fields.Integer()
    low = fields.Integer()


class QueueOut(Schema):
    name = fields.String()
    paused = fields.Boolean()
    paused_at = Timestamp()
    paused_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    waiting = fields.Nested(WaitingOut, allow_none=True,
                            metadata={"description": "jobs waiting in Redis per priority; null when Redis did not answer"})
    queued = fields.Integer(metadata={"description": "the ledger's queued tasks on it (waiting, or due for a retry)"})
    running = fields.Integer()


class QueuesOut(Schema):
    items = fields.List(fields.Nested(QueueOut))


class WorkerOut(Schema):
    name = fields.String()
    state = fields.String(metadata={"description": "RQ's: idle, busy, started, suspended"})
    queues = fields.List(fields.String())
    current_job_id = fields.String(allow_none=True)
    current_task_id = fields.Integer(allow_none=True, metadata={"description": "null for a schedule's firing"})
    last_heartbeat = fields.String(allow_none=True, metadata={"type": "string", "format": "date-time"})
    heartbeat_age = fields.Float(allow_none=True, metadata={"description": "seconds since its last heartbeat"})
    successful_jobs = fields.Integer()
    failed_jobs = fields.Integer()
    hostname = fields.String(allow_none=True)
    pid = fields.Integer(allow_none=True)
    birth = fields.String(allow_none=True, metadata={"type": "string", "format": "date-time"})


class WorkersOut(Schema):
    items = fields.List(fields.Nested(WorkerOut))


def queue_json(state) -> dict:
    """A QueueState (rqledger.application.queues) as QueueOut dumps it."""
    pause = state.pause
    return {"name": state.name, "paused": pause is not None,
            "paused_at": pause.paused_at if pause else None, "paused_by": pause.by if pause else None,
            "reason": pause.reason if pause else None, "waiting": state.waiting, "queued": state.queued,
            "running": state.running}


_TIME = {"type": "string", "format": "date-time"}


class DeliveryOut(Schema):
    id = fields.Integer()
    target = fields.String(metadata={"description": "the webhook URL"})
    status = fields.String(metadata={"enum": ["pending", "sending", "delivered", "given_up"]})
    attempts = fields.Integer()
    next_attempt_at = fields.String(allow_none=True, metadata=_TIME)
    delivered_at = fields.String(allow_none=True, metadata=_TIME)
    last_error = fields.String(allow_none=True)


class AlertOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": ["task.failed", "schedule.failing", "schedule.missed", "schedule.deadman",
                                            "queue.stalled"]})
    status = fields.String(metadata={"enum": ["open", "resolved"]})
    summary = fields.String()
    count = fields.Integer(metadata={"description": "how many times it happened (failed tasks, runs, firings)"})
    subject = fields.Dict(metadata={"description": "what it is about: task_name/task_id, schedule_id/schedule_name, "
                                                   "queue, ..."})
    created_at = fields.String(metadata=_TIME)
    updated_at = fields.String(allow_none=True, metadata=_TIME)
    resolved_at = fields.String(allow_none=True, metadata=_TIME)


class AlertDetailOut(AlertOut):
    deliveries = fields.List(fields.Nested(DeliveryOut), metadata={"description": "one per webhook target"})


class AlertPageOut(Schema):
    items = fields.List(fields.Nested(AlertOut))
    next_cursor = fields.String(allow_none=True, metadata={"description": "pass as ?cursor= for the next page"})


def delivery_json(delivery) -> dict:
    return {"id": delivery.id, "target": delivery.target, "status": delivery.status.value,
            "attempts": delivery.attempts,
            "next_attempt_at": None if delivery.status.value in ("delivered", "given_up")
            else _timestamp(delivery.next_attempt_at),
            "delivered_at": _timestamp(delivery.delivered_at), "last_error": delivery.last_error}


class TypeLimitsOut(Schema):
    concurrency = fields.Integer(allow_none=True, metadata={"description": "attempts at once across every worker"})
    concurrency_per_owner = fields.Integer(allow_none=True, metadata={"description": "attempts at once per owner"})
    rate_limit = fields.String(allow_none=True, metadata={"description": "starts per time, e.g. '10/m'"})


class TaskTypeOut(Schema):
    name = fields.String()
    description = fields.String()
    unique = fields.Boolean()
    timeout = fields.Integer(allow_none=True)
    retry = fields.Nested(RetryOut, allow_none=True)
    queue = fields.String()
    priority = fields.String(metadata={"enum": [p.value for p in Priority]})
    limits = fields.Nested(TypeLimitsOut)
    parameters = fields.List(fields.Nested(ParameterOut))


class TaskTypesOut(Schema):
    items = fields.List(fields.Nested(TaskTypeOut))


class LastRunOut(Schema):
    status = fields.Enum(RunStatus, by_value=True)
    scheduled_at = Timestamp()
    ended_at = Timestamp()


class RunOut(Schema):
    id = fields.Integer()
    schedule_id = fields.Integer()
    scheduled_at = Timestamp(metadata={"description": "the firing time this run belongs to"})
    status = fields.Enum(RunStatus, by_value=True,
                         metadata={"description": "missed: no scheduler fired it at its time; never run"})
    progress = fields.Integer(metadata={"minimum": 0, "maximum": 100})
    result = fields.Dict(allow_none=True)
    log = fields.String()
    worker = fields.String(allow_none=True)
    started_at = Timestamp()
    ended_at = Timestamp()


class ScheduleOut(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    args = fields.List(_json())
    kwargs = fields.Dict(keys=fields.String(), values=_json())
    status = fields.Enum(ScheduleStatus, by_value=True)
    queue = fields.String()
    owner = fields.String(allow_none=True)
    at = Timestamp(attribute="timing.at")
    interval = fields.Integer(attribute="timing.interval", allow_none=True)
    repeat = fields.Integer(attribute="timing.repeat", allow_none=True)
    cron = fields.String(attribute="timing.cron", allow_none=True)
    timezone = fields.String(attribute="timing.timezone")
    catch_up = fields.Enum(CatchUp, by_value=True,
                           metadata={"description": "what is done with firings missed while no scheduler ran"})
    runs_started = fields.Integer(metadata={"description": "firings used up: runs started, and missed ones"})
    next_run_at = Timestamp()
    last_run = fields.Nested(LastRunOut, allow_none=True)
    log = fields.String(metadata={"description": "what happened to the schedule as a whole (missed firings "
                                                "counted, not recorded as runs)"})
    expect_every = fields.Integer(allow_none=True, metadata={"description": "seconds within which a run must succeed"})
    alert_after_failures = fields.Integer(metadata={"description": "failed runs in a row that open an alert"})
    created_at = Timestamp()


class ScheduleDetailOut(ScheduleOut):
    runs = fields.List(fields.Nested(RunOut), metadata={"description": "the most recent runs, newest first"})


class SchedulePageOut(Schema):
    items = fields.List(fields.Nested(ScheduleOut))
    next_cursor = fields.String(allow_none=True)


class RunPageOut(Schema):
    items = fields.List(fields.Nested(RunOut))
    next_cursor = fields.String(allow_none=True)


WHY_NOT = ("ok, or unavailable; with the API token (no token configured: from this machine), "
           "'unavailable: ' and why")


class HealthOut(Schema):
    status = fields.String(metadata={"enum": ["ok", "unavailable"]})
    database = fields.String(metadata={"description": WHY_NOT})
    redis = fields.String(metadata={"description": WHY_NOT})


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"description": "a stable, machine-readable word"})
    message = fields.String(required=True, metadata={"description": "what went wrong and what to do"})
    field = fields.String(metadata={"description": "the request field at fault, when there is one"})
    fields_ = fields.Dict(data_key="fields", metadata={"description": "every invalid field and why"})


class ErrorOut(Schema):
    error = fields.Nested(ErrorDetail, required=True)
    # By reference, not Nested: apiflask names the schemas it registers itself, and would otherwise see two.
    task = fields.Raw(metadata={"allOf": [{"$ref": "#/components/schemas/TaskOut"}],
                                "description": "503 at enqueue: the task row (failed, log says why)"})
    schedule = fields.Raw(metadata={"allOf": [{"$ref": "#/components/schemas/ScheduleOut"}],
                                    "description": "503 at schedule: the stored parent"})
    items = fields.List(fields.Dict(), metadata={"description": "batch: one entry per refused task, by index"})


def task_json(task, waiting: str | None = None) -> dict:
    """What TaskOut().dump(task) gives, written out: the list and batch routes return up to 500 and 1,000
    tasks, and marshmallow's per-field machinery was a third of a list page's time. TaskOut stays the
    schema (and the OpenAPI description); tests/api/test_task_json.py holds the two equal."""
    retry = task.retry_policy
    return {
        "id": None if task.id is None else int(task.id),
        "name": task.name,
        "description": task.description,
        "status": task.status.value,
        "failed": task.status is TaskStatus.FAILED,
        "progress": task.progress,
        "result": task.result,
        "log": task.log,
        "args": list(task.args),
        "kwargs": dict(task.kwargs),
        "queue": task.queue,
        "priority": task.priority.value,
        "timeout": task.timeout,
        "retry": None if retry is None else {"max": retry.max, "interval": retry.interval},
        "attempts": task.attempts,
        "owner": task.owner,
        "worker": task.worker,
        "created_at": _timestamp(task.created_at),
        "enqueued_at": _timestamp(task.enqueued_at),
        "started_at": _timestamp(task.started_at),
        "ended_at": _timestamp(task.ended_at),
        "waiting": waiting,
    }


def _timestamp(value) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def tasks_response(items, status: int = 200, waiting: dict[int, str] | None = None, **extra):
    """A JSON response of {"items": [task_json...], **extra}, bypassing the route's output schema; `waiting`:
    task id -> why it waits (rqledger.application.queues.waiting_reasons)."""
    from flask import jsonify

    waiting = waiting or {}
    response = jsonify({"items": [task_json(task, waiting.get(task.id)) for task in items], **extra})
    response.status_code = status
    return response


def page_of(page) -> dict:
    """A use case's Page as the JSON page shape."""
    cursor = page.next_cursor
    return {"items": page.items, "next_cursor": None if cursor is None else str(cursor)}
