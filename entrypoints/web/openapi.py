"""What apiflask cannot infer from the schemas alone, added by a spec processor so /openapi.json always has it:
auth (only when a token is set: the document describes this deployment), the error answers every operation
can give, the range of ids in paths, the `at` or `cron` rule of a schedule, links from a created resource to
the operations on it, and what this service accepts (registered task names, queues, limits)."""

from __future__ import annotations

import copy
import re

MAX_ID = 2**63 - 1

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
SCHEDULE_REF = {"$ref": "#/components/schemas/ScheduleOut"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


BODY_ERRORS = {
    "400": _error("the body is not valid JSON (NaN and Infinity are not JSON)"),
    "413": _error("the body is larger than 1 MiB"),
    "415": _error("the body is not sent as application/json"),
}
UNAUTHORIZED = _error("no valid API token (Authorization: Bearer <token>)")
# Mirrors auth.PUBLIC_ENDPOINTS for the documented API.
PUBLIC_OPERATIONS = {("get", "/api/health")}
UNAVAILABLE = _error("the ledger database (or Redis) is unavailable")


NULL = {"type": "null"}
# ScheduleIn's rule (domain.schedule.Timing): `cron` alone, or `at` (once, `repeat` 1 at most) or `at` + `interval`
SCHEDULE_TIMINGS = [
    {"title": "cron", "required": ["cron"],
     "properties": {"cron": {"type": "string", "pattern": "\\S"}, "at": NULL, "interval": NULL, "repeat": NULL}},
    {"title": "once, at", "required": ["at"],
     "properties": {"at": {"type": "string"}, "interval": NULL, "repeat": {"enum": [None, 1]}, "cron": NULL}},
    {"title": "from at, every interval seconds", "required": ["at", "interval"],
     "properties": {"at": {"type": "string"}, "interval": {"type": "integer"}, "cron": NULL}},
]


def _links(path: str, parameter: str, operations: dict[str, str]) -> dict:
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {name: {"operationRef": f"#/paths/{pointer}{suffix}", "parameters": {parameter: "$response.body#/id"}}
            for name, suffix in operations.items()}


TASK_LINKS = {**_links("/api/tasks/{task_id}", "task_id", {"GetTask": "/get", "DeleteTask": "/delete"}),
              **_links("/api/tasks/{task_id}/cancel", "task_id", {"CancelTask": "/post"}),
              **_links("/api/tasks/{task_id}/retry", "task_id", {"RetryTask": "/post"})}
SCHEDULE_LINKS = {**_links("/api/schedules/{schedule_id}", "schedule_id", {"GetSchedule": "/get",
                                                                          "DeleteSchedule": "/delete"}),
                  **_links("/api/schedules/{schedule_id}/runs", "schedule_id", {"ListRuns": "/get"}),
                  **_links("/api/schedules/{schedule_id}/cancel", "schedule_id", {"CancelSchedule": "/post"})}
LINKS = {("post", "/api/tasks", "202"): TASK_LINKS, ("post", "/api/schedules", "201"): SCHEDULE_LINKS,
         ("post", "/api/schedules", "200"): SCHEDULE_LINKS}


def complete_spec(spec: dict, container=None) -> dict:
    components = spec.setdefault("components", {})
    _merge_copies(spec, components.get("schemas", {}))
    # the document describes this deployment: bearer auth only when it has a token (an open one takes none)
    secured = container is None or bool(container.config.api_token() or container.config.get("api_tokens"))
    if secured:
        components.setdefault("securitySchemes", {})["bearerAuth"] = {
            "type": "http", "scheme": "bearer", "description": "RQLEDGER_API_TOKEN"}
        spec["security"] = [{"bearerAuth": []}]
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            _complete_operation(path, method, operation, secured)
    schedule_in = components.get("schemas", {}).get("ScheduleIn")
    if schedule_in is not None:
        schedule_in["oneOf"] = copy.deepcopy(SCHEDULE_TIMINGS)
    if container is not None:
        _describe_service(components.get("schemas", {}), container)
    return spec


def _merge_copies(spec: dict, schemas: dict) -> None:
    """apiflask registers a schema a second time, as `<Name>1`, when a route answers with one that an earlier
    route's schema nests (QueueOut: in QueuesOut, then POST /api/queues/{name}/pause): one name is kept."""
    copies = {}
    for name in list(schemas):
        base = re.sub(r"\d+$", "", name)
        if base != name and schemas.get(base) == schemas[name]:
            copies[f"#/components/schemas/{name}"] = f"#/components/schemas/{base}"
            del schemas[name]
    if copies:
        _rewrite_refs(spec, copies)


def _rewrite_refs(node, refs: dict[str, str]) -> None:
    if isinstance(node, dict):
        if node.get("$ref") in refs:
            node["$ref"] = refs[node["$ref"]]
        for value in node.values():
            _rewrite_refs(value, refs)
    elif isinstance(node, list):
        for value in node:
            _rewrite_refs(value, refs)


def _complete_operation(path: str, method: str, operation: dict, secured: bool) -> None:
    responses = operation.setdefault("responses", {})
    if (method, path) in PUBLIC_OPERATIONS:
        operation["security"] = []
    elif secured:
        responses.setdefault("401", UNAUTHORIZED)
    if "requestBody" in operation:
        operation["requestBody"]["required"] = True
        for status, answer in BODY_ERRORS.items():
            responses.setdefault(status, answer)
    if path.startswith("/api/") and path != "/api/task-types":
        responses.setdefault("503", UNAVAILABLE)
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path":
            parameter["required"] = True
            parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            responses.setdefault("404", _error("no such id"))
    for (link_method, link_path, status), links in LINKS.items():
        if (method, path) == (link_method, link_path) and status in responses:
            responses[status]["links"] = links


def _describe_service(schemas: dict, container) -> None:
    """This deployment's registered task names, queues and limits: a client (or a fuzzer) sees what is accepted."""
    names = sorted(task_type.name for task_type in container.registry())
    limits = container.limits()
    for schema in ("TaskIn", "ScheduleIn"):
        if schema in schemas and names:
            schemas[schema]["properties"]["name"]["enum"] = names
    task_in = schemas.get("TaskIn", {}).get("properties", {})
    if "queue" in task_in:
        task_in["queue"]["enum"] = sorted(limits.queues) + [None]
    if "timeout" in task_in:
        task_in["timeout"]["maximum"] = limits.max_timeout
    retry_max = schemas.get("RetryIn", {}).get("properties", {}).get("max")
    if retry_max is not None:
        retry_max["maximum"] = limits.max_retries
    interval = schemas.get("RetryIn", {}).get("properties", {}).get("interval")
    if interval is not None and "oneOf" in interval:
        # new dicts: apispec may hand back the field's own metadata, shared by every app in the process
        interval["oneOf"] = [_at_most(option, limits.max_retry_interval) for option in interval["oneOf"]]


def _at_most(schema: dict, maximum: float) -> dict:
    if "items" in schema:
        return {**schema, "items": _at_most(schema["items"], maximum)}
    return {**schema, "maximum": min(schema.get("maximum", maximum), maximum)}
