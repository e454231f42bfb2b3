"""Schedules of an owner over HTTP: the owner as the task API takes it, shown back, and a listing filter."""

from __future__ import annotations

CRON = "*/5 * * * *"
TASK_API_REFUSAL = "must be a string of 1 to 200 characters (no NUL) or an integer"


def register(client, status=201, **body):
    response = client.post("/api/schedules", json={"name": "api_echo", "args": [1], "cron": CRON, **body})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def ids(client, query: str = "") -> list[int]:
    response = client.get(f"/api/schedules{query}")
    assert response.status_code == 200, response.get_json()
    return [schedule["id"] for schedule in response.get_json()["items"]]


def test_an_integer_owner_is_shown_as_its_string_as_a_task_s_is(client):
    schedule = register(client, owner=7)
    task = client.post("/api/tasks", json={"name": "api_echo", "args": [1], "owner": 7}).get_json()
    assert schedule["owner"] == task["owner"] == "7"
    assert client.get(f"/api/schedules/{schedule['id']}").get_json()["owner"] == "7"


def test_a_schedule_without_an_owner_shows_null(client):
    assert register(client)["owner"] is None


def test_the_same_call_for_another_owner_is_another_schedule_and_for_the_same_owner_the_same(client):
    seven = register(client, owner=7)
    eight = register(client, owner="8")
    nobody = register(client)
    assert len({seven["id"], eight["id"], nobody["id"]}) == 3
    again = register(client, status=200, owner="7", cron="0 * * * *")
    assert again["id"] == seven["id"] and again["cron"] == "0 * * * *" and again["owner"] == "7"


def test_listing_by_owner_shows_only_that_owner_s_schedules(client):
    seven = register(client, owner=7)
    weekly = register(client, owner=7, args=[2])
    register(client, owner=8)
    register(client)
    assert ids(client, "?owner=7") == [weekly["id"], seven["id"]]
    assert ids(client, "?owner=9") == []
    assert ids(client, "?owner=7&limit=1") == [weekly["id"]]
    assert len(ids(client)) == 4


def test_an_owner_the_task_api_refuses_is_refused_naming_the_field(client):
    for owner in ("", "x" * 201, "a\x00b", 1.5, True, ["7"]):
        response = client.post("/api/schedules", json={"name": "api_echo", "args": [1], "cron": CRON,
                                                       "owner": owner})
        assert response.status_code == 422, (owner, response.get_json())
        assert response.get_json()["error"]["fields"]["owner"] == [TASK_API_REFUSAL], (owner, response.get_json())
    assert ids(client) == []
