"""A client cannot ask for more than the service allows: limits from the settings, strict JSON, bounded bodies."""

from __future__ import annotations

import json

import pytest

from rqledger.entrypoints.web.body import MAX_DEPTH

JSON_ENDPOINTS = ["/api/tasks", "/api/tasks/batch", "/api/schedules"]


def post_json(client, path: str, text: str):
    return client.post(path, data=text, content_type="application/json")


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert error["message"]
    return error


def in_body(path: str, value: str) -> str:
    """A body for `path` with `value` (JSON text) as an argument of a task."""
    task = '{"name": "api_echo", "args": [%s]}' % value
    return '{"tasks": [%s]}' % task if path.endswith("batch") else task


@pytest.fixture
def limited(make_api):
    """An app whose operator lowered every ceiling."""
    app, container = make_api(RQLEDGER_MAX_TIMEOUT="60", RQLEDGER_MAX_RETRIES="2", RQLEDGER_MAX_RETRY_INTERVAL="30",
                              RQLEDGER_QUEUES="default,reports")
    return app.test_client(), container


@pytest.mark.parametrize("extra, field", [
    ({"timeout": 61}, "timeout"),
    ({"timeout": 10**30}, "timeout"),
    ({"retry": {"max": 3}}, "retry.max"),
    ({"retry": {"max": 10**30}}, "retry.max"),
    ({"retry": {"max": 1, "interval": 31}}, "retry.interval"),
    ({"retry": {"max": 2, "interval": [1, 31]}}, "retry.interval"),
    ({"queue": "high"}, "queue"),
])
@pytest.mark.parametrize("batch", [False, True], ids=["one", "batch"])
def test_a_client_cannot_raise_timeout_retries_or_queue_beyond_the_configured_limits(limited, extra, field, batch):
    client, container = limited
    body = {"name": "api_echo", "args": [1], **extra}
    if batch:
        response = client.post("/api/tasks/batch", json={"tasks": [{"name": "api_echo", "args": [1]}, body]})
        error_of(response, 422)
        refused = response.get_json()["items"]
        assert [(r["index"], r["field"]) for r in refused] == [(1, field)], refused
    else:
        assert error_of(client.post("/api/tasks", json=body), 422)["field"] == field
    assert client.get("/api/tasks").get_json()["items"] == []  # nothing was stored


def test_requests_within_the_configured_limits_are_taken(limited):
    client, _ = limited
    body = {"name": "api_echo", "args": [1], "timeout": 60, "queue": "reports", "retry": {"max": 2, "interval": [30, 5]}}
    response = client.post("/api/tasks", json=body)
    assert response.status_code == 202, response.get_json()
    task = response.get_json()
    assert (task["timeout"], task["queue"]) == (60, "reports")


def test_the_openapi_document_states_the_configured_limits(limited):
    client, _ = limited
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    task_in, retry_in = schemas["TaskIn"]["properties"], schemas["RetryIn"]["properties"]
    assert task_in["timeout"]["maximum"] == 60 and retry_in["max"]["maximum"] == 2
    assert None in task_in["queue"]["enum"] and {"default", "reports"} <= set(task_in["queue"]["enum"])
    number, many = retry_in["interval"]["oneOf"]
    assert number["maximum"] == 30 and many["items"]["maximum"] == 30


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_refused_on_every_json_endpoint(api, path, constant):
    client, _ = api
    error = error_of(post_json(client, path, in_body(path, constant)), 400)
    assert "not a JSON number" in error["message"] or "finite" in error["message"], error


@pytest.mark.parametrize("kwargs", ['{"count": 1, "ratio": 1e999}', '{"count": 1, "items": [1, -1e999]}'])
def test_a_number_too_large_for_a_float_is_not_taken_for_infinity(api, kwargs):
    # Python's json reads 1e999 as inf without asking parse_constant; inside a list no signature check sees it
    client, _ = api
    response = post_json(client, "/api/tasks", '{"name": "api_echo", "kwargs": %s}' % kwargs)
    assert "finite" in error_of(response, 400)["message"]
    assert client.get("/api/tasks").get_json()["items"] == []


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_json_nesting_is_limited_on_every_json_endpoint(api, path):
    client, _ = api
    too_deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    error = error_of(post_json(client, path, in_body(path, too_deep)), 400)
    assert f"nested deeper than {MAX_DEPTH}" in error["message"]
    # deep enough to exhaust Python's stack: still a 400, never a RecursionError
    error_of(post_json(client, path, in_body(path, "[" * 100_000 + "]" * 100_000)), 400)


def test_nesting_just_within_the_limit_is_stored_and_read_back(api):
    client, _ = api
    prefix = 3  # the body object, "kwargs" and "items" hold the list
    deep = "[" * (MAX_DEPTH - prefix) + "]" * (MAX_DEPTH - prefix)
    body = '{"name": "api_echo", "kwargs": {"count": 1, "items": %s}}' % deep
    response = post_json(client, "/api/tasks", body)
    assert response.status_code == 202, response.get_json()
    assert client.get(response.headers["Location"]).get_json()["kwargs"]["items"] == json.loads(deep)


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_a_body_over_the_size_limit_is_413_on_every_json_endpoint(api, path):
    client, _ = api
    error = error_of(post_json(client, path, in_body(path, '"' + "x" * (1024 * 1024) + '"')), 413)
    assert error["code"] == "payload_too_large"
