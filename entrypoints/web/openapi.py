"""What apiflask cannot infer from the schemas alone: auth, the error answers every operation can give,
and the range of ids in paths. Applied as a spec processor, so /openapi.json always includes it."""

from __future__ import annotations

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
UNAUTHORIZED = _error("no valid API token (Authorization: Bearer <token>) while RQLEDGER_API_TOKEN is set")
# Mirrors auth.PUBLIC_ENDPOINTS for the documented API.
PUBLIC_OPERATIONS = {("get", "/api/health")}
UNAVAILABLE = _error("the ledger database (or Redis) is unavailable")


def complete_spec(spec: dict) -> dict:
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http", "scheme": "bearer", "description": "RQLEDGER_API_TOKEN (only when it is set)"}
    spec["security"] = [{"bearerAuth": []}]
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            _complete_operation(path, method, operation)
    return spec


def _complete_operation(path: str, method: str, operation: dict) -> None:
    responses = operation.setdefault("responses", {})
    if (method, path) in PUBLIC_OPERATIONS:
        operation["security"] = []
    else:
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
