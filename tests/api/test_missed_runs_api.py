"""`catch_up` over HTTP, and missed runs in the API and the dashboard's schedule section (SQL ledger)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def register(client, status=201, **body):
    response = client.post("/api/schedules", json={"name": "api_echo", "args": [7], **body})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_catch_up_defaults_to_latest_and_takes_skip_and_all(client):
    assert register(client, cron="0 3 * * *")["catch_up"] == "latest"
    assert register(client, status=200, cron="0 3 * * *", catch_up="skip")["catch_up"] == "skip"
    assert register(client, args=[8], cron="0 3 * * *", catch_up="all")["catch_up"] == "all"


def test_an_unknown_catch_up_is_422_naming_the_field(client):
    response = client.post("/api/schedules", json={"name": "api_echo", "args": [7], "cron": "0 3 * * *",
                                                   "catch_up": "sometimes"})
    assert response.status_code == 422
    assert "catch_up" in str(response.get_json())


def test_missed_runs_show_in_the_runs_and_as_their_own_badge_on_the_dashboard(client, container):
    down_since = datetime.now(timezone.utc) - timedelta(seconds=35)
    schedule = register(client, at=down_since.isoformat(), interval=10, catch_up="skip")
    container.scheduler().jobs[schedule["id"]].next_at = down_since  # no scheduler ran since then
    container.scheduler().fire_due(container.run_schedule(), missed=container.scheduled_runs().record_missed)
    runs = client.get(f"/api/schedules/{schedule['id']}/runs").get_json()["items"]
    assert [r["status"] for r in runs] == ["missed"] * 4
    assert all("no scheduler fired it at its time" in r["log"] for r in runs)
    detail = client.get(f"/api/schedules/{schedule['id']}").get_json()
    assert detail["last_run"]["status"] == "missed" and detail["status"] == "running"
    html = client.get("/dashboard/sections/schedules").get_data(as_text=True)
    assert html.count('<span class="badge missed">missed</span>') == 4
    assert ".badge.missed" in client.get("/static/dashboard.css").get_data(as_text=True)
