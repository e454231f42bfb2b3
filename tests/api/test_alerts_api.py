"""GET /api/alerts and /api/alerts/{id} (SQLite ledger, in-memory queue): what EvaluateAlerts opened, with the
deliveries; an admin's only."""

from __future__ import annotations

from rqledger.adapters.alerts import RecordingSender
from rqledger.application.alerts import DeliverAlerts


def test_an_open_alert_and_its_delivery_through_the_api(make_app):
    from rqledger.adapters.memory import InMemoryWorker
    from rqledger.entrypoints.web.context import KEY

    app = make_app(RQLEDGER_ALERT_WEBHOOK="https://hooks.example/rqledger")
    container = app.extensions[KEY]
    client = app.test_client()
    assert client.get("/api/alerts").get_json() == {"items": [], "next_cursor": None}
    client.post("/api/tasks", json={"name": "api_fail", "kwargs": {"message": "disk full"}})
    InMemoryWorker(container.queue(), container.run_task()).work()
    container.evaluate_alerts()()
    DeliverAlerts(container.uow(), container.clock(), RecordingSender(), container.alert_settings())()

    [alert] = client.get("/api/alerts?status=open").get_json()["items"]
    assert (alert["kind"], alert["count"], alert["subject"]["task_name"]) == ("task.failed", 1, "api_fail")
    assert client.get("/api/alerts?status=resolved").get_json()["items"] == []
    assert client.get("/api/alerts?kind=queue.stalled").get_json()["items"] == []
    detail = client.get(f"/api/alerts/{alert['id']}").get_json()
    assert [(d["target"], d["status"], d["attempts"]) for d in detail["deliveries"]] == [
        ("https://hooks.example/rqledger", "delivered", 1)]
    assert client.get("/api/alerts/999").status_code == 404
    assert client.get("/api/alerts?status=shouting").status_code == 422
    assert client.get("/api/alerts?kind=everything").status_code == 422


def test_an_owners_token_may_not_read_alerts(make_app):
    app = make_app(RQLEDGER_API_TOKENS="ana-0123456789abcdef:ana,ops-0123456789abcdef:*")
    client = app.test_client()
    ana = {"Authorization": "Bearer ana-0123456789abcdef"}
    ops = {"Authorization": "Bearer ops-0123456789abcdef"}
    refused = client.get("/api/alerts", headers=ana)
    assert refused.status_code == 403 and "alerts are about every owner's tasks" in refused.get_json()["error"]["message"]
    assert client.get("/api/alerts/1", headers=ana).status_code == 403
    assert client.get("/api/alerts", headers=ops).status_code == 200


def test_a_schedule_takes_and_shows_its_alert_settings(client):
    body = {"name": "api_echo", "args": [1], "cron": "0 3 * * *", "expect_every": 86400, "alert_after_failures": 2}
    created = client.post("/api/schedules", json=body).get_json()
    assert (created["expect_every"], created["alert_after_failures"]) == (86400, 2)
    plain = client.post("/api/schedules", json={"name": "api_echo", "args": [2], "cron": "0 3 * * *"}).get_json()
    assert (plain["expect_every"], plain["alert_after_failures"]) == (None, 3)
    refused = client.post("/api/schedules", json={**body, "args": [3], "expect_every": 0})
    assert refused.status_code == 422


def test_the_alerts_page_shows_open_alerts_with_their_deliveries_and_the_resolved_ones(make_app):
    from rqledger.adapters.memory import InMemoryWorker
    from rqledger.entrypoints.web.context import KEY

    app = make_app(RQLEDGER_ALERT_WEBHOOK="https://hooks.example/rqledger")
    container = app.extensions[KEY]
    client = app.test_client()
    assert 'id="no-open-alerts"' in client.get("/alerts").get_data(as_text=True)
    client.post("/api/tasks", json={"name": "api_fail", "kwargs": {"message": "<disk> full"}})
    InMemoryWorker(container.queue(), container.run_task()).work()
    [alert] = container.evaluate_alerts()().opened
    DeliverAlerts(container.uow(), container.clock(), RecordingSender(["HTTP 503: busy"]),
                  container.alert_settings())()

    html = client.get("/alerts").get_data(as_text=True)
    assert f'data-alert-row="{alert.id}" data-kind="task.failed"' in html
    assert "1 task of api_fail failed for good" in html
    assert "https://hooks.example/rqledger: pending after 1 attempt (HTTP 503: busy)" in html
    assert 'id="nav-alerts" aria-current="page"' in html
    section = client.get("/dashboard/sections/alerts").get_data(as_text=True)
    assert f'data-alert-row="{alert.id}"' in section


def test_an_owner_is_told_alerts_are_an_admins(make_app):
    app = make_app(RQLEDGER_API_TOKENS="ana-0123456789abcdef:ana")
    section = app.test_client().get("/dashboard/sections/alerts",
                                    headers={"Authorization": "Bearer ana-0123456789abcdef"})
    assert section.status_code == 403
