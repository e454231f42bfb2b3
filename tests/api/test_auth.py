"""With RQLEDGER_API_TOKEN set, every request but GET /api/health needs the bearer token."""

from __future__ import annotations

import pytest

TOKEN = "s3cret-tøken"


@pytest.fixture
def client(make_app):
    return make_app(RQLEDGER_API_TOKEN=TOKEN).test_client()


def bearer(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


GUARDED = [
    ("get", "/api/tasks"), ("post", "/api/tasks"), ("get", "/api/tasks/1"), ("post", "/api/tasks/1/cancel"),
    ("post", "/api/tasks/1/retry"), ("delete", "/api/tasks/1"), ("post", "/api/tasks/batch"),
    ("get", "/api/task-types"), ("get", "/api/schedules"), ("post", "/api/schedules"), ("get", "/api/schedules/1"),
    ("get", "/api/schedules/1/runs"), ("post", "/api/schedules/1/cancel"), ("delete", "/api/schedules/1"),
    ("get", "/api/events"), ("get", "/openapi.json"), ("get", "/dashboard/sections/active"), ("get", "/metrics"),
    ("get", "/api/nothing-here"),
]


@pytest.mark.parametrize("method, path", GUARDED)
def test_without_the_token_every_endpoint_is_401_with_a_challenge(client, method, path):
    response = getattr(client, method)(path, json={"name": "api_echo"} if method == "post" else None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("header", ["Bearer wrong", f"Basic {TOKEN}", "Bearer", f"bearer {TOKEN}x", TOKEN])
def test_a_wrong_token_or_scheme_is_401(client, header):
    response = client.get("/api/tasks", headers={"Authorization": header})
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_with_the_token_it_answers(client):
    assert client.get("/api/tasks", headers=bearer()).status_code == 200
    response = client.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1}}, headers=bearer())
    assert response.status_code == 202
    assert client.get("/openapi.json", headers=bearer()).status_code == 200
    assert client.get("/dashboard/sections/active", headers=bearer()).status_code == 200


def test_the_scheme_name_is_case_insensitive(client):
    assert client.get("/api/tasks", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_health_and_the_dashboard_shell_are_open(client):
    assert client.get("/api/health").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and b'data-token-required="true"' in page.data
    assert b"data-task-row" not in page.data  # no data without the token
    assert client.get("/static/dashboard.js").status_code == 200


def test_only_the_event_stream_takes_the_token_as_a_query_parameter(client):
    assert client.get(f"/api/tasks?token={TOKEN}").status_code == 401
    response = client.get(f"/api/events?token={TOKEN}", buffered=False)
    try:
        assert response.status_code == 200 and response.mimetype == "text/event-stream"
    finally:
        response.close()
    assert client.get("/api/events?token=wrong").status_code == 401


def test_without_a_configured_token_everything_is_open(make_app):
    client = make_app().test_client()
    assert client.get("/api/tasks").status_code == 200
    assert b'data-token-required="false"' in client.get("/").data
