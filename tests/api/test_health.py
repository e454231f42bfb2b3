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
