"""Who sees what in the example: a user's export is theirs alone. Another user never sees, cancels or retries it
through /tasks/api/... (404, as for an id that does not exist), lists none of it, and their event stream carries
none of its events; the admin sees every user's tasks. No worker: the exports stay queued in real Redis."""

from __future__ import annotations

import json
import time

import pytest

from tests.examples.conftest import sign_in

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def export(client) -> int:
    client.post("/export_posts")
    [task] = client.get("/tasks/api/tasks?status=queued,running").get_json()["items"]
    return task["id"]


def test_another_user_never_sees_cancels_or_retries_a_users_export(app):
    susan, john = sign_in(app, "susan"), sign_in(app, "john")
    theirs = export(susan)

    assert john.get("/tasks/api/tasks").get_json()["items"] == []
    assert john.get("/tasks/api/tasks?status=queued,running").get_json()["items"] == []
    for response in (john.get(f"/tasks/api/tasks/{theirs}"), john.post(f"/tasks/api/tasks/{theirs}/cancel"),
                     john.post(f"/tasks/api/tasks/{theirs}/retry"), john.delete(f"/tasks/api/tasks/{theirs}")):
        assert response.status_code == 404, (response.request.method, response.get_json())
    assert john.get(f"/tasks/api/tasks/{theirs}").get_json()["error"] == {
        "code": "task_not_found", "message": f"task {theirs} does not exist"}  # as for an id that does not exist
    assert f'data-rqledger-task="{theirs}"' not in john.get("/user/john").get_data(as_text=True)
    assert f'data-rqledger-task="{theirs}"' not in john.get("/user/susan").get_data(as_text=True)

    mine = susan.get(f"/tasks/api/tasks/{theirs}")
    assert mine.status_code == 200 and mine.get_json()["status"] == "queued"  # john's cancel changed nothing
    admin = sign_in(app, "admin")
    assert theirs in [t["id"] for t in admin.get("/tasks/api/tasks").get_json()["items"]]
    assert admin.get("/tasks/").status_code == 200
    row = f'data-task-row="{theirs}"'
    assert row in admin.get("/tasks/dashboard/sections/active").get_data(as_text=True)  # the admin's dashboard
    assert row not in john.get("/tasks/dashboard/sections/active").get_data(as_text=True)
    assert app.test_client().get("/tasks/api/tasks").status_code == 401  # nobody signed in


def read_until(frames, done, timeout: float = 10) -> list[dict]:
    """The events of an open stream until `done(events)` holds (a keep-alive every 0.2 s: a read never hangs)."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while not done(seen):
        assert time.monotonic() < deadline, f"the awaited events did not arrive; seen: {seen}"
        text = next(frames).decode()
        seen += [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
    return seen


def test_a_users_event_stream_carries_none_of_another_users_events(app):
    susan, john, admin = sign_in(app, "susan"), sign_in(app, "john"), sign_in(app, "admin")
    streams = [client.get("/tasks/api/events", buffered=False) for client in (john, admin)]
    johns, admins = [iter(stream.response) for stream in streams]
    assert b"connected" in next(johns) and b"connected" in next(admins)  # both subscribed from here on

    theirs = export(susan)
    assert susan.post(f"/tasks/api/tasks/{theirs}/cancel").status_code == 200
    mine = export(john)  # published after susan's events: once it arrives, hers would have too

    def has(*ids):
        return lambda seen: set(ids) <= {event.get("id") for event in seen if event["kind"] == "task"}

    to_john = [e for e in read_until(johns, has(mine)) if e["kind"] == "task"]
    to_admin = [e for e in read_until(admins, has(theirs, mine)) if e["kind"] == "task"]
    for stream in streams:
        stream.close()
    assert {e["id"] for e in to_john} == {mine} and {e["owner"] for e in to_john} == {"2"}
    assert {"queued", "canceled"} <= {e["status"] for e in to_admin if e["id"] == theirs}  # hers were published
