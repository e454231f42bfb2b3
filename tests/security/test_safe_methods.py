"""No state changes through GET (nor HEAD, nor OPTIONS): every such route, asked twice, leaves the ledger and
the queue as they were; a write route asked with GET is a 405 that changes nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from rqledger.adapters.memory import InMemoryWorker
from rqledger.application.ports import ScheduleQuery, TaskQuery


@pytest.fixture
def busy(api):
    """A ledger with tasks in every state, a schedule that ran once, and jobs waiting in the queue."""
    client, container = api
    post = client.post
    ids = [post("/api/tasks", json={"name": "api_echo", "args": [n]}).get_json()["id"] for n in range(3)]
    failing = post("/api/tasks", json={"name": "api_fail"}).get_json()["id"]
    InMemoryWorker(container.queue(), container.run_task(), name="w").work()  # all end: finished or failed
    canceled = post("/api/tasks", json={"name": "api_echo", "args": [9]}).get_json()["id"]
    assert post(f"/api/tasks/{canceled}/cancel").status_code == 200
    waiting = post("/api/tasks", json={"name": "api_echo", "args": [10]}).get_json()["id"]
    at = (datetime.now(timezone.utc) - timedelta(seconds=5)).isoformat()
    schedule = post("/api/schedules", json={"name": "api_echo", "args": [5], "at": at, "interval": 3600})
    assert schedule.status_code == 201, schedule.get_json()
    run_schedule = container.run_schedule()
    container.scheduler().fire_due(lambda schedule_id, due: run_schedule(schedule_id, due, "w"))
    return client, container, {"task_id": ids[0], "schedule_id": schedule.get_json()["id"]}, failing, waiting


def snapshot(container) -> str:
    """Everything GET could have touched: every row (with its version), every run, the queue's jobs."""
    uow = container.uow()
    with uow:
        tasks = uow.tasks.list(TaskQuery(limit=500)).items
        schedules = uow.schedules.list(ScheduleQuery(limit=500)).items
        runs = [uow.schedules.list_runs(s.id, limit=500).items for s in schedules]
    queue, scheduler = container.queue(), container.scheduler()
    return repr((tasks, schedules, runs, list(queue.jobs), sorted(scheduler.jobs)))


def get_routes(app, ids: dict) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "api_events.events":  # an endless stream: below
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids.get(m.group(1), "active")), rule.rule)
        paths.append(path)
    return paths


def test_every_get_route_asked_twice_changes_nothing(busy):
    client, container, ids, _, _ = busy
    before = snapshot(container)
    routes = get_routes(client.application, {**ids, "filename": "dashboard.js"})
    assert {"/api/tasks", "/api/tasks/1", "/api/schedules/1/runs", "/metrics", "/"} <= set(routes), routes
    routes += [f"/dashboard/sections/{name}" for name in ("finished", "failed", "schedules")]
    routes += ["/api/tasks?status=queued,running&limit=1", "/api/schedules?status=running"]
    for path in routes * 2:
        for method in (client.get, client.head, client.options):
            assert method(path).status_code < 500, path
    events = client.get("/api/events", buffered=False)  # its first bytes, then hang up
    assert events.status_code == 200
    events.close()
    assert snapshot(container) == before


@pytest.mark.parametrize("path", ["/api/tasks/{failing}/retry", "/api/tasks/{waiting}/cancel",
                                  "/api/schedules/{schedule_id}/cancel", "/api/tasks/batch"])
def test_a_write_route_asked_with_get_is_405_and_changes_nothing(busy, path):
    client, container, ids, failing, waiting = busy
    before = snapshot(container)
    response = client.get(path.format(failing=failing, waiting=waiting, **ids))
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert snapshot(container) == before
