"""However malformed the request, the answer is a JSON 4xx that says what to fix; never a 500."""

from __future__ import annotations

import pytest


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return error


@pytest.mark.parametrize("raw", ["{bad", "", "   ", '{"name": "api_echo",}', "\xff\xfe".encode("latin-1")])
def test_malformed_json_is_400(client, raw):
    error = error_of(client.post("/api/tasks", data=raw, content_type="application/json"), 400)
    assert error["code"] == "bad_request"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(client, constant):
    body = '{"name": "api_echo", "kwargs": {"count": 1, "ratio": %s}}' % constant
    error = error_of(client.post("/api/tasks", data=body, content_type="application/json"), 400)
    assert constant.lstrip("-") in error["message"]


def test_json_nested_too_deep_is_400(client):
    body = '{"name": "api_echo", "args": [' + "[" * 5000 + "]" * 5000 + "]}"
    assert "nested" in error_of(client.post("/api/tasks", data=body, content_type="application/json"), 400)["message"]
    body = '{"name": "api_echo", "args": [' + "[" * 100 + "]" * 100 + "]}"
    error_of(client.post("/api/tasks", data=body, content_type="application/json"), 400)


def test_an_unpaired_surrogate_is_400(client):
    body = '{"name": "api_echo", "kwargs": {"count": 1, "label": "\\ud800"}}'
    assert "surrogate" in error_of(client.post("/api/tasks", data=body, content_type="application/json"),
                                   400)["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_415(client, content_type):
    response = client.post("/api/tasks", data='{"name": "api_echo"}', content_type=content_type)
    assert "application/json" in error_of(response, 415)["message"]


def test_a_body_over_1_mib_is_413(client):
    body = '{"name": "api_echo", "kwargs": {"count": 1, "label": "' + "x" * (1024 * 1024) + '"}}'
    assert error_of(client.post("/api/tasks", data=body, content_type="application/json"), 413)["code"] == \
        "payload_too_large"


def test_a_body_just_under_1_mib_is_fine(client):
    body = '{"name": "api_echo", "kwargs": {"count": 1, "label": "' + "x" * (1000 * 1000) + '"}}'
    assert client.post("/api/tasks", data=body, content_type="application/json").status_code == 202


def test_unknown_fields_are_422_naming_them(client):
    error = error_of(client.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1}, "prio": 1}), 422)
    assert error["field"] == "prio" and "Unknown field" in error["message"]


@pytest.mark.parametrize("body, field", [
    ({"name": 5}, "name"),
    ({"name": ""}, "name"),
    ({"name": "api_echo", "args": "x"}, "args"),
    ({"name": "api_echo", "kwargs": []}, "kwargs"),
    ({"name": "api_echo", "timeout": "60"}, "timeout"),
    ({"name": "api_echo", "timeout": 1.5}, "timeout"),
    ({"name": "api_echo", "timeout": True}, "timeout"),
    ({"name": "api_echo", "timeout": 0}, "timeout"),
    ({"name": "api_echo", "owner": 7.5}, "owner"),
    ({"name": "api_echo", "owner": True}, "owner"),
    ({"name": "api_echo", "owner": ""}, "owner"),
    ({"name": "api_echo", "owner": "x" * 201}, "owner"),
    ({"name": "api_echo", "description": "a\x00b"}, "description"),
    ({"name": "api_echo", "retry": {"max": -1}}, "retry.max"),
    ({"name": "api_echo", "retry": {"max": 1, "interval": "soon"}}, "retry.interval"),
    ({"name": "api_echo", "retry": {"max": 1, "interval": [1, -2]}}, "retry.interval"),
    ({"name": "api_echo", "retry": {"interval": 1}}, "retry.max"),
    ({}, "name"),
])
def test_wrong_types_and_values_are_422_naming_the_field(client, body, field):
    error = error_of(client.post("/api/tasks", json=body), 422)
    assert error["field"] == field, error


@pytest.mark.parametrize("document", ["[]", '"x"', "3", "null"])
def test_a_body_that_is_not_an_object_is_422(client, document):
    error_of(client.post("/api/tasks", data=document, content_type="application/json"), 422)


@pytest.mark.parametrize("query, field", [
    ("limit=501", "limit"), ("limit=0", "limit"), ("limit=-5", "limit"), ("limit=ten", "limit"),
    ("cursor=abc", "cursor"), ("cursor=0", "cursor"), ("cursor=99999999999999999999", "cursor"),
    ("status=done", "status"), ("status=queued,", "status"), ("name=a%00b", "name"),
])
def test_bad_listing_parameters_are_422(client, query, field):
    assert error_of(client.get(f"/api/tasks?{query}"), 422)["field"] == field


@pytest.mark.parametrize("path", ["/api/tasks/abc", "/api/tasks/-1", "/api/tasks/0", "/api/tasks/1.5",
                                  "/api/tasks/99999999999999999999999", "/api/schedules/x", "/api/schedules/1e3/runs",
                                  "/api/nothing"])
def test_ids_that_are_not_positive_numbers_are_404(client, path):
    error_of(client.get(path), 404)


def test_a_wrong_method_is_405_with_allow(client):
    response = client.put("/api/tasks")
    error_of(response, 405)
    assert "POST" in response.headers["Allow"]


def test_a_largest_id_is_just_not_found(client):
    assert error_of(client.get(f"/api/tasks/{2**63 - 1}"), 404)["code"] == "task_not_found"
