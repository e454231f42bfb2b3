"""Every row of the HTTP table for schedules and their runs, on the SQL ledger."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

SCHEDULE_FIELDS = {"id", "name", "description", "args", "kwargs", "status", "owner", "at", "interval", "repeat",
                   "cron", "timezone", "next_run_at", "last_run", "created_at", "catch_up", "log"}
RUN_FIELDS = {"id", "schedule_id", "scheduled_at", "status", "result", "log", "started_at", "ended_at"}


def iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def fire(container):
    """Runs every firing that is due now, in this thread."""
    return lambda: container.scheduler().fire_due(container.run_schedule())


def register(client, status=201, **body):
    response = client.post("/api/schedules", json={"name": "api_echo", "args": [1], **body})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_a_new_cron_schedule_is_201_with_its_next_run(client):
    schedule = register(client, cron="*/5 * * * *")
    assert SCHEDULE_FIELDS <= set(schedule)
    assert schedule["status"] == "running" and schedule["cron"] == "*/5 * * * *" and schedule["timezone"] == "UTC"
    next_run = datetime.fromisoformat(schedule["next_run_at"])
    assert next_run.utcoffset() is not None and next_run.minute % 5 == 0
    assert schedule["last_run"] is None


def test_a_cron_is_read_in_the_time_zone_given(client):
    schedule = register(client, cron="0 3 * * *", timezone="Asia/Seoul")
    assert schedule["timezone"] == "Asia/Seoul"
    next_run = datetime.fromisoformat(schedule["next_run_at"])
    assert (next_run.hour, next_run.minute) == (18, 0)  # 03:00 in Seoul (UTC+9, no summer time) is 18:00 UTC
    assert client.get(f"/api/schedules/{schedule['id']}").get_json()["timezone"] == "Asia/Seoul"


@pytest.mark.parametrize("body, message", [
    ({"cron": "0 3 * * *", "timezone": "Mars/Olympus"}, "time zone 'Mars/Olympus' is not an IANA time zone name"),
    ({"at": "2026-01-01T09:00:00+00:00", "timezone": "Europe/Paris"}, "'timezone' is the time zone of a cron"),
])
def test_a_time_zone_that_does_not_exist_or_without_a_cron_is_422(client, body, message):
    response = client.post("/api/schedules", json={"name": "api_echo", "args": [1], **body})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == "timezone"
    assert response.get_json()["error"]["message"].startswith(message)


def test_registering_the_same_name_and_arguments_again_is_200_with_the_same_parent(client):
    first = register(client, cron="*/5 * * * *")
    again = register(client, status=200, cron="0 * * * *")
    assert again["id"] == first["id"] and again["cron"] == "0 * * * *"
    assert register(client, args=[2], cron="0 * * * *")["id"] != first["id"]


def test_interval_runs_are_recorded_and_listed_newest_first(client, container, fire):
    start = datetime.now(timezone.utc) - timedelta(seconds=30)
    schedule = register(client, at=iso(start), interval=10, repeat=3, catch_up="all")
    assert schedule["at"] and schedule["interval"] == 10 and schedule["repeat"] == 3
    assert schedule["catch_up"] == "all"
    container.scheduler().jobs[schedule["id"]].next_at = start  # as if no scheduler had run since `start`
    assert fire() == 3
    assert all("after the scheduler was down" in r["log"]
               for r in client.get(f"/api/schedules/{schedule['id']}/runs").get_json()["items"])
    runs = client.get(f"/api/schedules/{schedule['id']}/runs").get_json()
    assert len(runs["items"]) == 3 and runs["next_cursor"] is None
    assert [r["id"] for r in runs["items"]] == sorted((r["id"] for r in runs["items"]), reverse=True)
    assert {iso(start + timedelta(seconds=s)) for s in (20, 10)} <= {r["scheduled_at"] for r in runs["items"]}
    assert all(RUN_FIELDS <= set(r) and r["status"] == "finished" for r in runs["items"])
    assert runs["items"][0]["result"] == {"count": 1, "ratio": 1.0, "flag": False, "label": "x", "items": None}
    page = client.get(f"/api/schedules/{schedule['id']}/runs?limit=2").get_json()
    rest = client.get(f"/api/schedules/{schedule['id']}/runs?limit=2&cursor={page['next_cursor']}").get_json()
    assert [r["id"] for r in page["items"] + rest["items"]] == [r["id"] for r in runs["items"]]
    detail = client.get(f"/api/schedules/{schedule['id']}").get_json()
    assert detail["status"] == "death" and detail["next_run_at"] is None  # exhausted after a finished run
    assert detail["last_run"]["status"] == "finished"
    assert [r["id"] for r in detail["runs"]] == [r["id"] for r in runs["items"]]


def test_a_failed_run_makes_the_schedule_failed_with_the_reason_in_the_run_log(client, fire):
    schedule = register(client, name="api_fail", args=[], at=iso(datetime.now(timezone.utc)))
    fire()
    detail = client.get(f"/api/schedules/{schedule['id']}").get_json()
    assert detail["status"] == "failed"
    assert detail["runs"][0]["status"] == "failed" and "boom" in detail["runs"][0]["log"]


def test_get_of_an_unknown_schedule_or_its_runs_is_404(client):
    assert client.get("/api/schedules/999").get_json()["error"]["code"] == "schedule_not_found"
    assert client.get("/api/schedules/999").status_code == 404
    assert client.get("/api/schedules/999/runs").status_code == 404


def test_list_filters_by_status_and_name_and_pages(client):
    a = register(client, cron="*/5 * * * *")
    b = register(client, name="example", args=[1], cron="*/5 * * * *")
    c = register(client, args=[3], cron="*/5 * * * *")
    client.post(f"/api/schedules/{b['id']}/cancel")

    def ids(query=""):
        response = client.get(f"/api/schedules?{query}")
        assert response.status_code == 200
        return [s["id"] for s in response.get_json()["items"]]

    assert ids() == [c["id"], b["id"], a["id"]]
    assert ids("status=death") == [b["id"]]
    assert ids("status=running,failed") == [c["id"], a["id"]]
    assert ids("name=example") == [b["id"]]
    first = client.get("/api/schedules?limit=2").get_json()
    assert ids(f"limit=2&cursor={first['next_cursor']}") == [a["id"]]


def test_cancel_answers_200_with_status_death_and_stops_it(client, fire):
    schedule = register(client, at=iso(datetime.now(timezone.utc) + timedelta(seconds=1)), interval=1)
    response = client.post(f"/api/schedules/{schedule['id']}/cancel")
    assert response.status_code == 200
    assert response.get_json()["status"] == "death" and response.get_json()["next_run_at"] is None
    assert fire() == 0
    assert client.post("/api/schedules/999/cancel").status_code == 404


def test_delete_answers_204_and_takes_the_runs_with_it(client, fire):
    schedule = register(client, at=iso(datetime.now(timezone.utc)))
    fire()
    assert client.delete(f"/api/schedules/{schedule['id']}").status_code == 204
    assert client.get(f"/api/schedules/{schedule['id']}").status_code == 404
    assert client.get(f"/api/schedules/{schedule['id']}/runs").status_code == 404
    assert client.delete(f"/api/schedules/{schedule['id']}").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"cron": "every minute"}, "cron"),
    ({"cron": "61 * * * *"}, "cron"),
    ({"cron": "0 0 30 2 *"}, "cron"),  # February 30: well formed, never fires (was a 500)
    ({"cron": "0 0 31 4 *"}, "cron"),
    ({"at": "2026-01-01T09:00:00"}, "at"),
    ({"at": "tomorrow"}, "at"),
    ({}, "at"),
    ({"cron": "* * * * *", "interval": 5}, "cron"),
    ({"at": "2026-01-01T09:00:00+00:00", "interval": 0}, "interval"),
    ({"at": "2026-01-01T09:00:00+00:00", "repeat": 3}, "repeat"),
    ({"at": "2026-01-01T09:00:00+00:00", "name": "nope"}, "name"),
    ({"at": "2026-01-01T09:00:00+00:00", "args": ["x"]}, "count"),
    ({"at": "2026-01-01T09:00:00+00:00", "every": 5}, "every"),
])
def test_bad_cron_time_or_name_is_422_naming_the_field(client, body, field):
    response = client.post("/api/schedules", json={"name": "api_echo", "args": [1], **body})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == field


def test_a_scheduler_that_refuses_is_503_with_the_stored_schedule(client, container):
    container.scheduler().available = False
    response = client.post("/api/schedules", json={"name": "api_echo", "args": [1], "cron": "* * * * *"})
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "schedule_not_registered" and body["schedule"]["status"] == "running"
