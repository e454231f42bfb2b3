"""rqledger.flask.RQLedger in a host app: every route, the dashboard and the event stream act for the
logged-in owner only; an admin sees everything. On the SQL ledger (a SQLite file per test), the queue in memory.

The host app's "login" here is a header (X-User), read by the owner_loader as an app would read its session.
"""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask, request

from rqledger.entrypoints.container import build_container
from rqledger.flask import RQLedger
from tests.api.conftest import api_settings

A = {"X-User": "7"}
B = {"X-User": "8"}
ADMIN = {"X-User": "1", "X-Admin": "yes"}


@pytest.fixture
def host(database_url):
    """A plain Flask app with rqledger under /tasks, its owner and admin loaders; no answer may be a 500."""
    app = Flask("host_app")
    app.config.update(TESTING=True, RQLEDGER_SSE_KEEPALIVE=0.2)
    ext = RQLedger()
    ext.init_app(app, url_prefix="/tasks", container=build_container(api_settings(database_url)))

    @ext.owner_loader
    def owner():
        user = request.headers.get("X-User")
        return int(user) if user else None  # user ids are integers in most apps

    @ext.admin_loader
    def admin():
        return request.headers.get("X-Admin") == "yes"

    statuses = []
    app.after_request(lambda response: statuses.append((request.path, response.status_code)) or response)
    yield app, ext
    assert not [s for s in statuses if s[1] >= 500], statuses
    app.extensions["rqledger"].container.database_engine().dispose()


@pytest.fixture
def client(host):
    return host[0].test_client()


def enqueue(client, headers, **body):
    response = client.post("/tasks/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1}, **body},
                           headers=headers)
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def test_an_enqueue_takes_the_logged_in_owner_and_its_location_is_under_the_prefix(client):
    response = client.post("/tasks/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1}}, headers=A)
    assert response.status_code == 202
    assert response.get_json()["owner"] == "7"
    assert response.headers["Location"] == f"/tasks/api/tasks/{response.get_json()['id']}"


@pytest.mark.parametrize("method, path", [
    ("get", "/tasks/api/tasks/{id}"), ("post", "/tasks/api/tasks/{id}/cancel"),
    ("post", "/tasks/api/tasks/{id}/retry"), ("delete", "/tasks/api/tasks/{id}"),
])
def test_another_owners_task_is_404_like_one_that_does_not_exist(client, method, path):
    mine = enqueue(client, A)
    theirs = getattr(client, method)(path.format(id=mine["id"]), headers=B)
    missing = getattr(client, method)(path.format(id=mine["id"] + 1000), headers=B)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json()["error"]["code"] == missing.get_json()["error"]["code"] == "task_not_found"
    assert client.get(f"/tasks/api/tasks/{mine['id']}", headers=A).get_json()["status"] == "queued"  # untouched


def test_lists_show_only_the_owners_tasks_and_a_filter_cannot_reach_another_owner(client):
    a = [enqueue(client, A)["id"] for _ in range(2)]
    b = enqueue(client, B)["id"]
    assert [t["id"] for t in client.get("/tasks/api/tasks", headers=A).get_json()["items"]] == a[::-1]
    assert [t["id"] for t in client.get("/tasks/api/tasks", headers=B).get_json()["items"]] == [b]
    assert client.get("/tasks/api/tasks?owner=7", headers=B).get_json()["items"] == []
    assert [t["id"] for t in client.get("/tasks/api/tasks?owner=8", headers=B).get_json()["items"]] == [b]


def test_naming_another_owner_is_403_and_writes_nothing(client):
    response = client.post("/tasks/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1}, "owner": 7},
                           headers=B)
    assert response.status_code == 403
    assert "owner '8'" in response.get_json()["error"]["message"]
    batch = client.post("/tasks/api/tasks/batch", json={"tasks": [
        {"name": "api_echo", "kwargs": {"count": 1}}, {"name": "api_echo", "kwargs": {"count": 2}, "owner": "7"}]},
        headers=B)
    assert batch.status_code == 403
    assert client.get("/tasks/api/tasks", headers=ADMIN).get_json()["items"] == []


def test_a_batch_takes_the_owner_for_every_task(client):
    response = client.post("/tasks/api/tasks/batch", json={"tasks": [
        {"name": "api_echo", "kwargs": {"count": 1}}, {"name": "api_echo", "kwargs": {"count": 2}, "owner": 8}]},
        headers=B)
    assert response.status_code == 202
    assert [t["owner"] for t in response.get_json()["items"]] == ["8", "8"]


def test_unique_is_per_owner_through_the_extension(client):
    assert client.post("/tasks/api/tasks", json={"name": "api_unique"}, headers=A).status_code == 202
    assert client.post("/tasks/api/tasks", json={"name": "api_unique"}, headers=A).status_code == 409
    assert client.post("/tasks/api/tasks", json={"name": "api_unique"}, headers=B).status_code == 202


def test_the_admin_sees_and_filters_every_owner_and_may_enqueue_for_one(client):
    a, b = enqueue(client, A)["id"], enqueue(client, B)["id"]
    assert [t["id"] for t in client.get("/tasks/api/tasks", headers=ADMIN).get_json()["items"]] == [b, a]
    assert [t["id"] for t in client.get("/tasks/api/tasks?owner=7", headers=ADMIN).get_json()["items"]] == [a]
    assert client.post(f"/tasks/api/tasks/{a}/cancel", headers=ADMIN).get_json()["status"] == "canceled"
    assert enqueue(client, ADMIN, owner=8)["owner"] == "8"
    assert enqueue(client, ADMIN)["owner"] == "1"  # the admin's own id when it names none


def test_nobody_logged_in_is_401_in_json_everywhere_but_the_health_check(client):
    for path in ("/tasks/api/tasks", "/tasks/api/task-types", "/tasks/", "/tasks/openapi.json",
                 "/tasks/dashboard/sections/active", "/tasks/api/events"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "unauthorized"
    health = client.get("/tasks/api/health")
    assert health.status_code == 200 and "detail" not in json.dumps(health.get_json())


def test_metrics_are_the_admins_only(client):
    assert client.get("/tasks/metrics", headers=A).status_code == 403
    response = client.get("/tasks/metrics", headers=ADMIN)
    assert response.status_code == 200 and b"rqledger_tasks" in response.data


def test_the_dashboard_under_the_prefix_shows_the_owner_only_their_tasks(client):
    enqueue(client, A, kwargs={"count": 111111})
    enqueue(client, B, kwargs={"count": 222222})
    page = client.get("/tasks/", headers=A)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "111111" in html and "222222" not in html
    assert 'data-base="/tasks"' in html and 'data-session="true"' in html
    addresses = re.findall(r'(?:src|href)="(/[^"]*)"', html)
    assert addresses and all(address.startswith("/tasks/") for address in addresses), addresses
    for address in addresses:
        assert client.get(address, headers=A).status_code == 200, address
    section = client.get("/tasks/dashboard/sections/active", headers=B).get_data(as_text=True)
    assert "222222" in section and "111111" not in section
    assert "task-owner" not in html  # an owner enqueues for themselves: no owner field to fill in
    assert "task-owner" in client.get("/tasks/", headers=ADMIN).get_data(as_text=True)


def test_the_event_stream_carries_only_the_owners_events(client):
    stream = client.get("/tasks/api/events", headers=B, buffered=False)
    assert stream.status_code == 200
    frames = iter(stream.response)
    assert b"connected" in next(frames)  # subscribed from here on
    theirs = enqueue(client, A)["id"]
    mine = enqueue(client, B)["id"]
    client.post(f"/tasks/api/tasks/{theirs}/cancel", headers=A)
    seen = []
    for frame in frames:
        text = frame.decode()
        if "keep-alive" in text:
            break  # every event published so far has been delivered
        seen += [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
    stream.close()
    assert [e["id"] for e in seen if e["kind"] == "task"] == [mine]
    assert all(e.get("owner") == "8" for e in seen if e["kind"] == "task")


def test_the_standalone_web_app_serves_the_same_routes_from_the_same_code(host, database_url):
    from rqledger.entrypoints.web import create_app

    app, _ = host
    standalone = create_app(build_container(api_settings(database_url)))

    def routes(flask_app, prefix):
        return {(rule.rule[len(prefix):] or "/", rule.endpoint, flask_app.view_functions[rule.endpoint])
                for rule in flask_app.url_map.iter_rules() if rule.endpoint.startswith("rqledger.")}

    mounted = routes(app, "/tasks")
    assert mounted and mounted == routes(standalone, "")


def schedule(client, headers, **body):
    response = client.post("/tasks/api/schedules", json={"name": "api_echo", "kwargs": {"count": 1},
                                                         "cron": "0 3 * * *", **body}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("method, path", [
    ("get", "/tasks/api/schedules/{id}"), ("get", "/tasks/api/schedules/{id}/runs"),
    ("post", "/tasks/api/schedules/{id}/cancel"), ("delete", "/tasks/api/schedules/{id}"),
])
def test_another_owners_schedule_is_404_like_one_that_does_not_exist(client, method, path):
    mine = schedule(client, A)
    assert mine["owner"] == "7"
    theirs = getattr(client, method)(path.format(id=mine["id"]), headers=B)
    missing = getattr(client, method)(path.format(id=mine["id"] + 1000), headers=B)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json()["error"]["code"] == missing.get_json()["error"]["code"] == "schedule_not_found"
    assert client.get(f"/tasks/api/schedules/{mine['id']}", headers=A).get_json()["status"] == "running"


def test_schedules_are_listed_per_owner_and_the_same_call_is_each_owners_own(client):
    a = schedule(client, A)["id"]
    b = schedule(client, B)["id"]  # the same name, args and kwargs: another owner's schedule, not A's revived
    assert a != b
    assert [s["id"] for s in client.get("/tasks/api/schedules", headers=A).get_json()["items"]] == [a]
    assert client.get("/tasks/api/schedules?owner=7", headers=B).get_json()["items"] == []
    assert [s["id"] for s in client.get("/tasks/api/schedules", headers=ADMIN).get_json()["items"]] == [b, a]
    refused = client.post("/tasks/api/schedules", json={"name": "api_echo", "kwargs": {"count": 1},
                                                        "cron": "0 4 * * *", "owner": "7"}, headers=B)
    assert refused.status_code == 403


@pytest.mark.parametrize("owner", ["7 ", " 7", "7\t"])
def test_an_owner_with_surrounding_space_is_refused_so_no_database_can_take_it_for_another(client, owner):
    # MariaDB compares '7' and '7 ' as equal: such a row would show in owner 7's list there
    response = client.post("/tasks/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1}, "owner": owner},
                           headers=ADMIN)
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "owner"
    refused = client.post("/tasks/api/schedules", json={"name": "api_echo", "kwargs": {"count": 1},
                                                        "cron": "0 3 * * *", "owner": owner}, headers=ADMIN)
    assert refused.status_code == 422


def test_the_dashboard_page_sends_a_signed_out_user_to_flask_logins_login_view(host):
    from types import SimpleNamespace

    from flask import redirect

    app, _ = host
    app.login_manager = SimpleNamespace(unauthorized=lambda: redirect("/login?next=/tasks/"))  # Flask-Login's hook
    client = app.test_client()
    page = client.get("/tasks/")
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=/tasks/"
    assert client.get("/tasks/api/tasks").status_code == 401  # the API stays JSON


def test_another_owners_task_page_is_no_such_task(client):
    mine = enqueue(client, A, kwargs={"count": 313131})
    page = client.get(f"/tasks/tasks/{mine['id']}", headers=B)
    assert page.status_code == 404 and "313131" not in page.get_data(as_text=True)
    assert client.get(f"/tasks/dashboard/sections/task/{mine['id']}", headers=B).status_code == 404
    assert "313131" in client.get(f"/tasks/tasks/{mine['id']}", headers=A).get_data(as_text=True)


def test_queues_are_the_admins_only_in_the_api_and_the_dashboard(client):
    assert client.post("/tasks/api/queues/default/pause", headers=A).status_code == 403
    assert client.get("/tasks/api/queues", headers=A).status_code == 403
    page = client.get("/tasks/queues", headers=A).get_data(as_text=True)
    assert 'id="queues-refused"' in page and "only an admin" in page
    assert 'id="nav-queues"' not in client.get("/tasks/", headers=A).get_data(as_text=True)
    assert client.post("/tasks/api/queues/default/pause", headers=ADMIN).get_json()["paused"] is True
    admin_page = client.get("/tasks/queues", headers=ADMIN).get_data(as_text=True)
    assert 'data-queue-row="default" data-paused="true"' in admin_page and 'id="nav-queues"' in admin_page
    assert client.get("/tasks/api/alerts", headers=A).status_code == 403
    assert 'id="alerts-refused"' in client.get("/tasks/alerts", headers=A).get_data(as_text=True)
    assert 'id="no-open-alerts"' in client.get("/tasks/alerts", headers=ADMIN).get_data(as_text=True)


def test_a_schedules_page_is_its_owners_only(client):
    created = client.post("/tasks/api/schedules", json={"name": "api_echo", "kwargs": {"count": 1},
                                                        "cron": "0 3 * * *"}, headers=A).get_json()
    assert client.get(f"/tasks/schedules/{created['id']}", headers=A).status_code == 200
    assert client.get(f"/tasks/schedules/{created['id']}", headers=B).status_code == 404
    assert f'data-schedule-row="{created["id"]}"' not in client.get("/tasks/schedules", headers=B).get_data(as_text=True)
    assert f'data-schedule-row="{created["id"]}"' in client.get("/tasks/schedules", headers=ADMIN).get_data(as_text=True)
