"""Priorities and paused queues through the HTTP API (SQLite ledger, in-memory queue and worker)."""

from __future__ import annotations

import pytest


def enqueue(client, **body) -> dict:
    response = client.post("/api/tasks", json={"name": "api_echo", "args": [1], **body})
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def test_a_paused_queue_keeps_its_tasks_queued_says_why_and_runs_them_once_resumed(client, work):
    paused = client.post("/api/queues/default/pause", json={"reason": "the mail relay is down", "by": "ops"})
    assert paused.status_code == 200
    state = paused.get_json()
    assert state["name"] == "default" and state["paused"] is True
    assert state["reason"] == "the mail relay is down" and state["paused_by"] == "ops" and state["paused_at"]

    task = enqueue(client)
    assert work() == 0  # the worker takes nothing from a paused queue
    read = client.get(f"/api/tasks/{task['id']}").get_json()
    assert read["status"] == "queued"
    assert read["waiting"].startswith("queue 'default' is paused (since ")
    assert read["waiting"].endswith(", by ops: the mail relay is down)")
    listed = client.get("/api/tasks").get_json()["items"]
    assert [t["waiting"] for t in listed] == [read["waiting"]]
    [queue] = client.get("/api/queues").get_json()["items"]
    assert queue["paused"] is True and queue["queued"] == 1 and queue["waiting"] == {"high": 0, "normal": 1, "low": 0}

    resumed = client.post("/api/queues/default/resume")
    assert resumed.status_code == 200 and resumed.get_json()["paused"] is False
    assert work() == 1
    done = client.get(f"/api/tasks/{task['id']}").get_json()
    assert done["status"] == "finished" and done["waiting"] is None


def test_pausing_a_paused_queue_keeps_the_first_pause_and_resuming_a_running_one_changes_nothing(client):
    first = client.post("/api/queues/default/pause", json={"reason": "first"}).get_json()
    again = client.post("/api/queues/default/pause", json={"reason": "second"}).get_json()
    assert again["reason"] == "first" and again["paused_at"] == first["paused_at"]
    assert client.post("/api/queues/default/resume").get_json()["paused"] is False
    assert client.post("/api/queues/default/resume").status_code == 200


def test_a_pause_needs_no_body(client):
    response = client.post("/api/queues/default/pause")
    assert response.status_code == 200 and response.get_json()["reason"] is None


@pytest.mark.parametrize("path", ["/api/queues/nope/pause", "/api/queues/nope/resume"])
def test_a_queue_that_is_not_served_is_404_naming_the_served_ones(client, path):
    response = client.post(path, json={})
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "queue_not_found" and "queues: default" in error["message"]


def test_a_reason_too_long_is_422(client):
    response = client.post("/api/queues/default/pause", json={"reason": "x" * 501})
    assert response.status_code == 422
    assert client.get("/api/queues").get_json()["items"][0]["paused"] is False


def test_the_priority_is_taken_shown_and_checked(client):
    assert enqueue(client)["priority"] == "normal"
    assert enqueue(client, priority="high")["priority"] == "high"
    refused = client.post("/api/tasks", json={"name": "api_echo", "args": [1], "priority": "urgent"})
    assert refused.status_code == 422
    assert "priority" in str(refused.get_json())
    batch = client.post("/api/tasks/batch", json={"tasks": [{"name": "api_echo", "args": [1], "priority": "low"}]})
    assert batch.status_code == 202 and batch.get_json()["items"][0]["priority"] == "low"
    [queue] = client.get("/api/queues").get_json()["items"]
    assert queue["waiting"] == {"high": 1, "normal": 1, "low": 1}


def test_a_worker_takes_every_high_task_before_the_normal_and_low_ones(client, container):
    from rqledger.adapters.memory import InMemoryWorker

    low = [enqueue(client, priority="low")["id"] for _ in range(3)]
    normal = [enqueue(client)["id"] for _ in range(2)]
    high = [enqueue(client, priority="high")["id"] for _ in range(2)]
    ran = []
    run_task = container.run_task()
    worker = InMemoryWorker(container.queue(), lambda task_id, name: (ran.append(task_id), run_task(task_id, name)),
                            paused=container.queue_pauses().paused)
    assert worker.work() == 7
    assert ran == high + normal + low


def test_task_types_show_their_priority_and_limits(client):
    types = {t["name"]: t for t in client.get("/api/task-types").get_json()["items"]}
    assert types["api_echo"]["priority"] == "normal"
    assert types["api_echo"]["limits"] == {"concurrency": None, "concurrency_per_owner": None, "rate_limit": None}
