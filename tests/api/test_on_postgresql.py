"""The same API on PostgreSQL: one walk through tasks and schedules, to catch what only a server database does."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def database_url(postgres_url):
    from rqledger.adapters.sqlalchemy import upgrade

    upgrade(postgres_url)
    return postgres_url


def test_a_walk_through_the_api(client, container, work):
    created = client.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 2, "label": "한글데이터"}})
    assert created.status_code == 202
    task_id = created.get_json()["id"]
    work()
    task = client.get(f"/api/tasks/{task_id}").get_json()
    assert task["status"] == "finished" and task["result"]["label"] == "한글데이터"
    assert datetime.fromisoformat(task["ended_at"]).utcoffset().total_seconds() == 0
    assert client.get("/api/tasks?status=finished&name=api_echo&limit=1").get_json()["items"][0]["id"] == task_id
    assert client.get("/api/tasks?name=a%00b").status_code == 422  # PostgreSQL refuses NUL: never reaches it
    assert client.get(f"/api/tasks/{2**63 - 1}").status_code == 404
    assert client.delete(f"/api/tasks/{task_id}").status_code == 204

    schedule = client.post("/api/schedules", json={"name": "api_echo", "args": [1],
                                                   "at": datetime.now(timezone.utc).isoformat()}).get_json()
    container.scheduler().fire_due(container.run_schedule())
    runs = client.get(f"/api/schedules/{schedule['id']}/runs").get_json()["items"]
    assert [r["status"] for r in runs] == ["finished"]
    assert client.delete(f"/api/schedules/{schedule['id']}").status_code == 204
