"""/openapi.json and the server agree: a body the document allows is taken, one it refuses is refused.

Each case is judged twice, by the document's own JSON Schema (OpenAPI 3.1: JSON Schema 2020-12, where
282.0 is an integer) and by the server, and the two verdicts must be the same. Whether arguments fit a
task function is checked against its signature, which the document cannot express: every body here fits.
"""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

AT = "2030-01-01T09:00:00+00:00"
CRON = "0 3 * * *"


@pytest.fixture
def spec(client) -> dict:
    return client.get("/openapi.json").get_json()


def allowed_by_the_document(spec: dict, schema: str, body: dict) -> bool:
    validator = Draft202012Validator({"$ref": f"#/components/schemas/{schema}", "components": spec["components"]})
    return validator.is_valid(body)


def taken_by_the_server(client, path: str, body: dict) -> bool:
    response = client.post(path, json=body)
    assert response.status_code in (200, 201, 202, 422), response.get_data(as_text=True)
    return response.status_code < 300


TASKS = [
    pytest.param({"name": "api_echo", "args": [1, 1.5, False, "x", None]}, True, id="null-in-args"),
    pytest.param({"name": "api_echo", "kwargs": {"count": 1, "items": None}}, True, id="null-in-kwargs"),
    pytest.param({"name": "api_echo", "args": [1], "timeout": 282.0}, True, id="integral-float-timeout"),
    pytest.param({"name": "api_echo", "args": [1], "timeout": 282.5}, False, id="fractional-timeout"),
    pytest.param({"name": "api_echo", "args": [1], "retry": {"max": 2.0}}, True, id="integral-float-retry-max"),
    pytest.param({"name": "api_echo", "args": [1], "owner": 7.0}, True, id="integral-float-owner"),
    pytest.param({"name": "api_echo", "args": [1], "owner": None}, True, id="null-owner"),
    pytest.param({"name": "api_echo", "args": [1], "owner": "a\x00b"}, False, id="nul-in-owner"),
    pytest.param({"name": "api_echo", "args": [1], "priority": 1}, False, id="unknown-field"),
    pytest.param({"name": "api_echo", "args": [1], "retry": {"max": 1, "jitter": 1}}, False, id="unknown-retry-field"),
]


@pytest.mark.parametrize("body, allowed", TASKS)
def test_a_task_body_is_taken_exactly_when_the_document_allows_it(client, spec, body, allowed):
    assert allowed_by_the_document(spec, "TaskIn", body) is allowed
    assert taken_by_the_server(client, "/api/tasks", body) is allowed


@pytest.mark.parametrize("body, allowed", TASKS)
def test_a_batch_is_taken_exactly_when_the_document_allows_it(client, spec, body, allowed):
    batch = {"tasks": [body]}
    assert allowed_by_the_document(spec, "BatchIn", batch) is allowed
    assert taken_by_the_server(client, "/api/tasks/batch", batch) is allowed


def test_integers_sent_as_whole_floats_are_stored_as_integers(client):
    response = client.post("/api/tasks", json={"name": "api_echo", "args": [1], "timeout": 282.0, "owner": 7.0,
                                               "retry": {"max": 2.0}})
    task = response.get_json()
    assert (task["timeout"], task["owner"], task["retry"]["max"]) == (282, "7", 2)
    assert type(task["timeout"]) is int and type(task["retry"]["max"]) is int


SCHEDULES = [
    pytest.param({"cron": CRON}, True, id="cron"),
    pytest.param({"at": AT}, True, id="once"),
    pytest.param({"at": AT, "repeat": 1}, True, id="once-repeat-1"),
    pytest.param({"at": AT, "interval": 60}, True, id="every-interval"),
    pytest.param({"at": AT, "interval": 60.0, "repeat": 3.0}, True, id="every-interval-integral-floats"),
    pytest.param({"at": AT, "interval": 60, "repeat": 3, "cron": None}, True, id="every-interval-null-cron"),
    pytest.param({"cron": CRON, "at": None, "interval": None, "repeat": None}, True, id="cron-nulls"),
    pytest.param({}, False, id="neither"),
    pytest.param({"at": None, "cron": None}, False, id="both-null"),
    pytest.param({"at": AT, "cron": CRON}, False, id="at-and-cron"),
    pytest.param({"cron": CRON, "interval": 60}, False, id="cron-and-interval"),
    pytest.param({"cron": CRON, "repeat": 1}, False, id="cron-and-repeat"),
    pytest.param({"at": AT, "repeat": 3}, False, id="repeat-without-interval"),
    pytest.param({"cron": "  "}, False, id="blank-cron"),
    pytest.param({"interval": 60}, False, id="interval-without-at"),
    pytest.param({"cron": CRON, "every": 5}, False, id="unknown-field"),
]


@pytest.mark.parametrize("timing, allowed", SCHEDULES)
def test_a_schedule_is_taken_exactly_when_the_document_allows_its_at_or_cron(client, spec, timing, allowed):
    body = {"name": "api_echo", "args": [1], **timing}
    assert allowed_by_the_document(spec, "ScheduleIn", body) is allowed
    assert taken_by_the_server(client, "/api/schedules", body) is allowed


SCHEDULE_OWNERS = [
    pytest.param(7, True, id="integer-owner"),
    pytest.param(7.0, True, id="integral-float-owner"),
    pytest.param("ann", True, id="string-owner"),
    pytest.param(None, True, id="null-owner"),
    pytest.param("", False, id="empty-owner"),
    pytest.param("x" * 201, False, id="long-owner"),
    pytest.param("a\x00b", False, id="nul-in-owner"),
    pytest.param(7.5, False, id="fractional-owner"),
    pytest.param(["ann"], False, id="list-owner"),
]


@pytest.mark.parametrize("owner, allowed", SCHEDULE_OWNERS)
def test_a_schedule_s_owner_is_taken_exactly_when_the_document_allows_it(client, spec, owner, allowed):
    body = {"name": "api_echo", "args": [1], "cron": CRON, "owner": owner}
    schemas = spec["components"]["schemas"]
    assert schemas["ScheduleIn"]["properties"]["owner"]["oneOf"] == schemas["TaskIn"]["properties"]["owner"]["oneOf"]
    assert allowed_by_the_document(spec, "ScheduleIn", body) is allowed
    assert taken_by_the_server(client, "/api/schedules", body) is allowed


def test_a_schedule_s_integer_owner_is_stored_as_its_string(client):
    response = client.post("/api/schedules", json={"name": "api_echo", "args": [1], "cron": CRON, "owner": 7.0})
    assert response.get_json()["owner"] == "7"


@pytest.mark.parametrize("path", ["/api/tasks", "/api/tasks/batch", "/api/schedules", "/api/tasks/1/cancel"])
def test_options_answers_the_allowed_methods_not_a_content_type_error(client, path):
    response = client.open(path, method="OPTIONS")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "POST" in response.headers["Allow"]
