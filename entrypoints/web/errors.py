"""The one place where errors become HTTP answers: {"error": {"code", "message"}} and the right status.

Domain and application errors are mapped by type; HTTP errors raised by
Flask/Werkzeug and validation errors raised by apiflask go through the error
processor; anything else is logged and answered with a JSON 500 as a last
resort (no traceback ever reaches a client).
"""

from __future__ import annotations

import logging

from apiflask import HTTPError
from flask import request
from werkzeug.exceptions import HTTPException as WerkzeugHTTPException

from rqledger.adapters.sqlalchemy.errors import WriteRefused
from rqledger.application.errors import (AdapterError, QueueUnavailable, ScheduleNotRegistered, StorageUnavailable,
                                TaskNotQueued)
from rqledger.domain.errors import (AlertNotFound, ConcurrentUpdate, DomainError, DuplicateRun, DuplicateUniqueTask, IllegalTransition,
                           InvalidArguments, InvalidSchedule, RunNotFound, ScheduleNotFound, TaskNotFound,
                           TaskStillActive, UnknownQueue, UnknownTaskType)
from rqledger.entrypoints.web.records import ScheduleOut, TaskOut

log = logging.getLogger(__name__)

# Most specific first: the first matching class decides the status and the code.
DOMAIN_ERRORS: list[tuple[type[Exception], int, str]] = [
    (TaskNotQueued, 503, "task_not_queued"),
    (ScheduleNotRegistered, 503, "schedule_not_registered"),
    (UnknownTaskType, 422, "unknown_task_type"),
    (InvalidSchedule, 422, "invalid_schedule"),
    (InvalidArguments, 422, "invalid_arguments"),
    (DuplicateUniqueTask, 409, "duplicate_unique_task"),
    (ConcurrentUpdate, 409, "concurrent_update"),
    (IllegalTransition, 409, "illegal_transition"),
    (TaskStillActive, 409, "task_still_active"),
    (DuplicateRun, 409, "duplicate_run"),
    (TaskNotFound, 404, "task_not_found"),
    (ScheduleNotFound, 404, "schedule_not_found"),
    (RunNotFound, 404, "run_not_found"),
    (UnknownQueue, 404, "queue_not_found"),
    (AlertNotFound, 404, "alert_not_found"),
    (WriteRefused, 409, "write_refused"),  # a constraint lost a race with another writer
    (StorageUnavailable, 503, "storage_unavailable"),
    (QueueUnavailable, 503, "queue_unavailable"),
    (AdapterError, 503, "service_unavailable"),
    (DomainError, 409, "refused"),
]

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "too_many_requests", 500: "internal_error", 503: "service_unavailable",
}

HTTP_MESSAGES = {
    401: "a valid API token is required: send 'Authorization: Bearer <token>'",
    404: "there is nothing at this address (ids are positive whole numbers)",
    405: "this address does not accept that method (see the Allow header)",
    413: "the request body is larger than 1 MiB",
}

UNAVAILABLE = {
    StorageUnavailable: "the ledger database is unavailable, try again shortly",
    QueueUnavailable: "Redis (the task queue) is unavailable, try again shortly",
}


def error_body(code: str, message: str, field: str | None = None, **extra) -> dict:
    error = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error, **extra}


def describe(exc: Exception) -> tuple[dict, int]:
    """The JSON body and status of a domain or application error."""
    status, code = next(((s, c) for cls, s, c in DOMAIN_ERRORS if isinstance(exc, cls)), (500, "internal_error"))
    message = str(exc)
    for cls, summary in UNAVAILABLE.items():
        if isinstance(exc, cls):
            message = f"{summary} ({exc})" if str(exc) else summary
    extra: dict = {}
    if isinstance(exc, TaskNotQueued):
        extra["task"] = TaskOut().dump(exc.task)
    elif isinstance(exc, ScheduleNotRegistered):
        extra["schedule"] = ScheduleOut().dump(exc.schedule)
    field = getattr(exc, "field", None)
    if isinstance(exc, UnknownTaskType):
        field = "name"
    return error_body(code, message, field, **extra), status


def validation_messages(detail, prefix: str = "") -> dict[str, list[str]]:
    """apiflask's {"json": {"a": {"0": {"b": ["..."]}}}} as {"a.0.b": ["..."]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key) if key not in ("json", "query", "_schema") or prefix else ""
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            flat.update(validation_messages(value, path))
    elif isinstance(detail, list) and all(isinstance(m, str) for m in detail):
        flat.setdefault(prefix or "body", []).extend(detail)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            flat.update(validation_messages(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat.setdefault(prefix or "body", []).append(str(detail))
    return flat


def register_error_handlers(target) -> None:
    """Answers every error of `target` (the rqledger blueprint, or `rqledger web`'s own app for the addresses
    no route matches) in the JSON error format. On the blueprint they answer only for rqledger's routes: a host
    app's own errors are left to the host app."""
    target.register_error_handler(HTTPError, http_error)
    target.register_error_handler(WerkzeugHTTPException, werkzeug_error)
    target.register_error_handler(DomainError, domain_error)
    target.register_error_handler(AdapterError, domain_error)
    target.register_error_handler(Exception, unexpected)


def http_error(error: HTTPError):
    status = error.status_code
    code = HTTP_CODES.get(status, "error")
    if status == 422 and error.detail:
        fields = validation_messages(error.detail)
        message = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
        body = error_body(code, f"invalid request: {message}", next(iter(fields), None))
        body["error"]["fields"] = fields
    else:
        default = HTTP_MESSAGES.get(status) or error.message or code.replace("_", " ")
        message = error.message if error.message and error.message not in _REASONS else default
        body = error_body(code, message)
        body.update(error.extra_data or {})
    return body, status, error.headers


def werkzeug_error(error: WerkzeugHTTPException):
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    return http_error(HTTPError(error.code or 500, message=error.name, headers=headers))


def domain_error(exc: Exception):
    body, status = describe(exc)
    if status >= 500:
        log.warning("%s answered %s: %s", _request_line(), status, exc)
    return body, status


def unexpected(exc: Exception):
    log.exception("unexpected error while answering %s", _request_line())
    return error_body("internal_error", "an unexpected error occurred; it was logged on the server"), 500


def _request_line() -> str:
    return f"{request.method} {request.path}"


# Werkzeug's bare reason phrases; a message of our own says more.
_REASONS = {"Not Found", "Unauthorized", "Method Not Allowed", "Request Entity Too Large", "Bad Request",
            "Unsupported Media Type", "Forbidden", "Not Acceptable", "Internal Server Error", "Conflict",
            "Content Too Large", "Unprocessable Entity", "Service Unavailable"}
