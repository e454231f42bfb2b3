"""GET /api/health checks the database and Redis; while Redis is down, reads still answer from the ledger."""

from __future__ import annotations

import pytest

from tests.services import free_port

pytestmark = pytest.mark.integration


def test_health_is_ok_with_the_database_and_redis_up(make_app, redis_url):
    response = make_app(RQLEDGER_QUEUE_BACKEND="rq", REDIS_URL=redis_url).test_client().get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_health_names_redis_when_it_is_down(make_app):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    response = make_app(RQLEDGER_QUEUE_BACKEND="rq", REDIS_URL=dead).test_client().get("/api/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["database"] == "ok"
    assert body["redis"].startswith("unavailable") and "does not answer" in body["redis"]


def test_health_names_the_database_when_it_is_down(make_app, tmp_path):
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    response = make_app(DATABASE_URL=dead).test_client().get("/api/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"].startswith("unavailable") and body["redis"] == "ok"


def test_reads_answer_from_the_ledger_while_redis_is_down_and_enqueue_is_503(make_app, redis_url, database_url):
    up = make_app(RQLEDGER_QUEUE_BACKEND="rq", REDIS_URL=redis_url).test_client()
    created = up.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1}}).get_json()
    dead = f"redis://127.0.0.1:{free_port()}/0"
    down = make_app(RQLEDGER_QUEUE_BACKEND="rq", REDIS_URL=dead).test_client()
    assert down.get(f"/api/tasks/{created['id']}").status_code == 200
    assert down.get("/api/tasks").status_code == 200
    assert down.get("/api/schedules").status_code == 200
    response = down.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 2}})
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "task_not_queued" and "could not be queued" in body["error"]["message"]
    assert body["task"]["status"] == "failed" and "could not take it" in body["task"]["log"]
    assert down.get(f"/api/tasks/{body['task']['id']}").get_json()["status"] == "failed"


STRANGER = {"REMOTE_ADDR": "203.0.113.9"}


def test_a_stranger_learns_what_is_down_but_not_why(make_app):
    dead = f"postgresql://svc_user@127.0.0.1:{free_port()}/nothing"
    response = make_app(DATABASE_URL=dead).test_client().get("/api/health", environ_base=STRANGER)
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unavailable", "redis": "ok"}


def test_without_a_token_a_request_from_this_machine_sees_why(make_app):
    port = free_port()
    client = make_app(DATABASE_URL=f"postgresql://svc_user@127.0.0.1:{port}/nothing").test_client()
    for loopback in ("127.0.0.1", "::1"):
        body = client.get("/api/health", environ_base={"REMOTE_ADDR": loopback}).get_json()
        assert body["database"].startswith("unavailable: ") and str(port) in body["database"], body


def test_with_a_token_only_a_request_that_carries_it_sees_why(make_app):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    client = make_app(RQLEDGER_QUEUE_BACKEND="rq", REDIS_URL=dead, RQLEDGER_API_TOKEN="t0ken").test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        for origin in (STRANGER, {"REMOTE_ADDR": "127.0.0.1"}):
            response = client.get("/api/health", headers=headers, environ_base=origin)
            assert response.status_code == 503  # open to anyone, even with a wrong token
            assert response.get_json()["redis"] == "unavailable"
    body = client.get("/api/health", headers={"Authorization": "Bearer t0ken"}, environ_base=STRANGER).get_json()
    assert body["redis"].startswith("unavailable: ") and "does not answer" in body["redis"]
