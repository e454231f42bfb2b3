"""Every row of the HTTP table for one-off tasks, on the SQL ledger."""

from __future__ import annotations

from datetime import datetime

import pytest

from rqledger.adapters.memory import InMemoryWorker
from rqledger.entrypoints.web.context import KEY

TASK_FIELDS = {"id", "name", "description", "status", "failed", "progress", "result", "log", "args", "kwargs",
               "queue", "timeout", "retry", "attempts", "owner", "worker", "created_at", "enqueued_at",
               "started_at", "ended_at"}


def enqueue(client, **body):
    response = client.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1}, **body})
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def test_enqueue_answers_202_with_the_queued_task_and_its_location(client):
    response = client.post("/api/tasks", json={"name": "api_echo", "args": [3], "kwargs": {"label": "한글"},
                                               "owner": "ana", "timeout": 60, "retry": {"max": 2, "interval": [1, 5]}})
    assert response.status_code == 202
    task = response.get_json()
    assert response.headers["Location"] == f"/api/tasks/{task['id']}"
    assert TASK_FIELDS <= set(task)
    assert task["status"] == "queued" and task["failed"] is False and task["progress"] == 0
    assert task["args"] == [3] and task["kwargs"] == {"label": "한글"}
    assert task["owner"] == "ana" and task["timeout"] == 60 and task["retry"] == {"max": 2, "interval": [1, 5]}
    assert task["description"] == "Returns its arguments"
    assert datetime.fromisoformat(task["created_at"]).utcoffset() is not None


def test_get_shows_a_finished_task_with_result_and_history(client, work):
    task = enqueue(client, kwargs={"count": 2, "ratio": 3})
    work()
    response = client.get(f"/api/tasks/{task['id']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "finished" and body["progress"] == 100 and body["failed"] is False
    assert body["result"] == {"count": 2, "ratio": 3, "flag": False, "label": "x", "items": None}
    assert body["worker"] == "test-worker" and body["attempts"] == 1
    assert [(a["number"], a["outcome"]) for a in body["history"]] == [(1, "finished")]
    for stamp in ("created_at", "enqueued_at", "started_at", "ended_at"):
        assert datetime.fromisoformat(body[stamp]).utcoffset().total_seconds() == 0


def test_a_failed_task_says_why_in_its_log(client, work):
    task = enqueue(client, name="api_fail", kwargs={"message": "no disk"})
    work()
    body = client.get(f"/api/tasks/{task['id']}").get_json()
    assert body["status"] == "failed" and body["failed"] is True
    assert "ValueError: no disk" in body["log"]
    assert body["history"][0]["outcome"] == "failed"


def test_get_of_an_unknown_task_is_404(client):
    response = client.get("/api/tasks/424242")
    assert response.status_code == 404
    assert response.get_json()["error"] == {"code": "task_not_found", "message": "task 424242 does not exist"}


def test_list_is_newest_first_and_pages_with_a_cursor(client):
    ids = [enqueue(client, kwargs={"count": i})["id"] for i in range(5)]
    first = client.get("/api/tasks?limit=2").get_json()
    assert [t["id"] for t in first["items"]] == ids[::-1][:2]
    second = client.get(f"/api/tasks?limit=2&cursor={first['next_cursor']}").get_json()
    third = client.get(f"/api/tasks?limit=2&cursor={second['next_cursor']}").get_json()
    assert [t["id"] for t in second["items"] + third["items"]] == ids[::-1][2:]
    assert third["next_cursor"] is None


def test_list_filters_by_status_name_and_owner(client, work):
    enqueue(client, owner="ana")
    failed = enqueue(client, name="api_fail", kwargs={}, owner="bob")
    work()
    queued = enqueue(client, owner="bob")

    def ids(query):
        response = client.get(f"/api/tasks?{query}")
        assert response.status_code == 200
        return [t["id"] for t in response.get_json()["items"]]

    assert ids("status=failed") == [failed["id"]]
    assert ids("status=queued,failed") == [queued["id"], failed["id"]]
    assert ids("name=api_fail") == [failed["id"]]
    assert ids("owner=bob") == [queued["id"], failed["id"]]
    assert ids("owner=bob&status=queued") == [queued["id"]]


def test_list_filters_by_queue_created_time_and_text(make_app):
    app = make_app(RQLEDGER_QUEUES="default,slow")
    client = app.test_client()
    boom = enqueue(client, name="api_fail", kwargs={"message": "Disk Full"})
    container = app.extensions[KEY]
    InMemoryWorker(container.queue(), container.run_task(), name="test-worker").work()
    slow = enqueue(client, queue="slow", kwargs={"count": 1, "label": "50% off"})
    created = datetime.fromisoformat(slow["created_at"])

    def ids(query):
        response = client.get(f"/api/tasks?{query}")
        assert response.status_code == 200, response.get_json()
        return [t["id"] for t in response.get_json()["items"]]

    assert ids("queue=slow") == [slow["id"]]
    assert ids("q=disk+full") == [boom["id"]]  # the log, and the arguments
    assert ids("q=50%25") == [slow["id"]] and ids("q=5_%25") == []  # % and _ are plain characters
    assert ids(f"q={boom['id']}") == [boom["id"]]
    assert ids(f"since={created.isoformat().replace('+00:00', 'Z')}") == [slow["id"]]
    assert ids(f"until={created.isoformat().replace('+00:00', '')}") == [boom["id"]]  # no offset: UTC
    assert ids("since=2000-01-01&until=2000-01-02") == []
    assert ids("since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59-01:00") == [slow["id"], boom["id"]]  # all


@pytest.mark.parametrize("query, message", [
    ("since=yesterday", "since: is not an ISO 8601 date and time: write e.g. 2026-12-05T14:30 (UTC)"),
    ("until=2026-02-30T10:00", "until: is not an ISO 8601 date and time"),
    ("since=2026-12-05T10:00Z&until=2026-12-05T09:00Z",
     "'since' (2026-12-05T10:00:00+00:00) is after 'until' (2026-12-05T09:00:00+00:00): no task can match"),
])
def test_list_refuses_a_time_it_cannot_read_or_a_range_backwards(client, query, message):
    response = client.get(f"/api/tasks?{query}")
    assert response.status_code == 422
    assert message in response.get_json()["error"]["message"]


def test_cancel_a_queued_task_answers_200_and_it_never_runs(client, work):
    task = enqueue(client)
    response = client.post(f"/api/tasks/{task['id']}/cancel")
    assert response.status_code == 200
    assert response.get_json()["status"] == "canceled"
    work()
    assert client.get(f"/api/tasks/{task['id']}").get_json()["status"] == "canceled"


def test_cancel_of_an_ended_task_is_409_and_of_an_unknown_one_404(client, work):
    task = enqueue(client)
    work()
    response = client.post(f"/api/tasks/{task['id']}/cancel")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "illegal_transition"
    assert "finished" in response.get_json()["error"]["message"]
    assert client.post("/api/tasks/999/cancel").status_code == 404


def test_retry_requeues_a_failed_task_keeping_its_history(client, work):
    task = enqueue(client, name="api_fail", kwargs={})
    work()
    response = client.post(f"/api/tasks/{task['id']}/retry")
    assert response.status_code == 202
    assert response.get_json()["status"] == "queued"
    work()
    body = client.get(f"/api/tasks/{task['id']}").get_json()
    assert body["attempts"] == 2 and [a["number"] for a in body["history"]] == [1, 2]


def test_retry_of_a_queued_or_finished_task_is_409_and_of_an_unknown_one_404(client, work):
    queued = enqueue(client)
    assert client.post(f"/api/tasks/{queued['id']}/retry").status_code == 409
    work()
    assert client.post(f"/api/tasks/{queued['id']}/retry").status_code == 409
    assert client.post("/api/tasks/999/retry").status_code == 404


def test_delete_an_ended_task_answers_204_then_it_is_gone(client, work):
    task = enqueue(client)
    work()
    response = client.delete(f"/api/tasks/{task['id']}")
    assert response.status_code == 204 and response.data == b""
    assert client.get(f"/api/tasks/{task['id']}").status_code == 404
    assert client.delete(f"/api/tasks/{task['id']}").status_code == 404


def test_delete_of_a_queued_task_is_409(client):
    task = enqueue(client)
    response = client.delete(f"/api/tasks/{task['id']}")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "task_still_active"


def test_unknown_task_name_is_422_naming_the_field(client):
    response = client.post("/api/tasks", json={"name": "os.system", "args": ["rm -rf /"]})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "unknown_task_type" and error["field"] == "name"
    assert "os.system" in error["message"] and "api_echo" in error["message"]


@pytest.mark.parametrize("kwargs, field", [
    ({"count": "3"}, "count"),
    ({"count": True}, "count"),
    ({"count": 1, "ratio": "fast"}, "ratio"),
    ({"count": 1, "nope": 1}, "args"),
    ({}, "args"),
])
def test_arguments_that_do_not_fit_the_function_are_422_naming_the_field(client, kwargs, field):
    response = client.post("/api/tasks", json={"name": "api_echo", "kwargs": kwargs})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_arguments" and error["field"] == field


def test_an_integer_is_fine_for_a_float_parameter(client):
    assert client.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1, "ratio": 2}}).status_code == 202


@pytest.mark.parametrize("body, field", [
    ({"queue": "nowhere"}, "queue"),
    ({"timeout": 10**9}, "timeout"),
    ({"retry": {"max": 99}}, "retry.max"),
])
def test_limits_of_the_service_are_422_naming_the_field(client, body, field):
    response = client.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1}, **body})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def test_a_unique_task_type_refuses_a_second_active_one_with_409(client):
    first = enqueue(client, name="api_unique", kwargs={}, owner="ana")
    response = client.post("/api/tasks", json={"name": "api_unique", "owner": "ana"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "duplicate_unique_task" and str(first["id"]) in error["message"]
    assert client.post("/api/tasks", json={"name": "api_unique", "owner": "bob"}).status_code == 202


def test_an_integer_owner_is_stored_as_its_string_and_lists_by_either(client):
    task = enqueue(client, name="api_unique", kwargs={}, owner=7)
    assert task["owner"] == "7"
    response = client.post("/api/tasks", json={"name": "api_unique", "owner": "7"})
    assert response.status_code == 409  # the same owner, however it was written
    listed = client.get("/api/tasks?owner=7").get_json()["items"]
    assert [t["id"] for t in listed] == [task["id"]]
    batch = client.post("/api/tasks/batch", json={"tasks": [{"name": "api_unique", "owner": 8}]})
    assert batch.status_code == 202 and batch.get_json()["items"][0]["owner"] == "8"


def test_enqueue_while_the_queue_is_down_is_503_carrying_the_failed_row(client, container):
    container.queue().available = False
    response = client.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1}})
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "task_not_queued"
    assert body["task"]["status"] == "failed" and "queue could not take it" in body["task"]["log"]
    stored = client.get(f"/api/tasks/{body['task']['id']}")
    assert stored.status_code == 200 and stored.get_json()["status"] == "failed"


def test_batch_enqueues_all_in_order(client):
    response = client.post("/api/tasks/batch", json={"tasks": [
        {"name": "api_echo", "kwargs": {"count": i}} for i in range(3)]})
    assert response.status_code == 202
    items = response.get_json()["items"]
    assert [t["kwargs"]["count"] for t in items] == [0, 1, 2]
    assert all(t["status"] == "queued" for t in items)


def test_batch_with_bad_tasks_is_422_naming_each_index_and_enqueues_nothing(client):
    response = client.post("/api/tasks/batch", json={"tasks": [
        {"name": "api_echo", "kwargs": {"count": 1}},
        {"name": "nope"},
        {"name": "api_echo", "kwargs": {"count": "x"}},
    ]})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"]["code"] == "invalid_batch"
    assert [(i["index"], i["code"]) for i in body["items"]] == [(1, "unknown_task_type"), (2, "invalid_arguments")]
    assert client.get("/api/tasks").get_json()["items"] == []


def test_batch_holding_a_unique_type_twice_is_409_naming_both_indexes_and_enqueues_nothing(client):
    response = client.post("/api/tasks/batch", json={"tasks": [
        {"name": "api_unique", "owner": "ana"},
        {"name": "api_echo", "kwargs": {"count": 1}},
        {"name": "api_unique", "owner": "ana"},
    ]})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "duplicate_unique_task" and error["field"] == "tasks.2"
    assert error["message"].startswith("1 of 3 tasks refused, none enqueued: tasks[2]: ")
    assert "the batch holds it twice for owner 'ana' (items 0 and 2)" in error["message"]
    [item] = response.get_json()["items"]
    assert (item["index"], item["earlier_index"], item["code"]) == (2, 0, "duplicate_unique_task")
    assert "existing_id" not in item and "already queued" not in item["message"]  # no id of a rolled-back row
    assert client.get("/api/tasks").get_json()["items"] == []


def test_batch_meeting_an_active_unique_task_is_409_naming_the_index_and_the_active_task(client):
    active = enqueue(client, name="api_unique", kwargs={}, owner="ana")
    response = client.post("/api/tasks/batch", json={"tasks": [
        {"name": "api_echo", "kwargs": {"count": 1}}, {"name": "api_unique", "owner": "ana"}]})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["field"] == "tasks.1"
    assert f"tasks[1]: task type 'api_unique' is unique and task {active['id']} is already queued" in error["message"]
    [item] = response.get_json()["items"]
    assert (item["index"], item["existing_id"]) == (1, active["id"])
    assert client.get(f"/api/tasks/{active['id']}").status_code == 200
    assert [t["id"] for t in client.get("/api/tasks").get_json()["items"]] == [active["id"]]


def test_retry_of_a_unique_task_while_another_is_active_is_409(client):
    first = enqueue(client, name="api_unique", kwargs={}, owner="ana")
    assert client.post(f"/api/tasks/{first['id']}/cancel").status_code == 200
    second = enqueue(client, name="api_unique", kwargs={}, owner="ana")
    response = client.post(f"/api/tasks/{first['id']}/retry")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "duplicate_unique_task" and f"task {second['id']} is already queued" in error["message"]


def test_batch_schema_errors_name_the_index(client):
    response = client.post("/api/tasks/batch", json={"tasks": [{"name": "api_echo"}, {"kwargs": {}}]})
    assert response.status_code == 422
    assert "tasks.1.name" in response.get_json()["error"]["fields"]


def test_batch_of_more_than_1000_is_422(client):
    response = client.post("/api/tasks/batch", json={"tasks": [{"name": "api_echo"}] * 1001})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "tasks"


def test_task_types_lists_names_descriptions_and_parameters(client):
    response = client.get("/api/task-types")
    assert response.status_code == 200
    types = {t["name"]: t for t in response.get_json()["items"]}
    assert {"example", "api_echo"} <= set(types)
    parameters = {p["name"]: p for p in types["api_echo"]["parameters"]}
    assert parameters["count"] == {"name": "count", "type": "int", "required": True, "nullable": False}
    assert parameters["ratio"]["default"] == 1.0 and parameters["items"]["nullable"] is True
    assert types["api_unique"]["unique"] is True
