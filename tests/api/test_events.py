"""GET /api/events on real `rqledger web` processes: changes arrive within a second, from any process."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.api.processes import Process, WebServer
from tests.api.sse_client import EventStream
from tests.services import free_port

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def post(base: str, path: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_a_new_task_reaches_the_stream_within_a_second(start_web, service_environment):
    web = start_web(service_environment)
    with EventStream(web.url + "/api/events") as stream:
        assert stream.response.status == 200
        assert stream.response.getheader("Content-Type").startswith("text/event-stream")
        time.sleep(0.3)  # let the feed subscribe
        sent = time.monotonic()
        status, task = post(web.url, "/api/tasks", {"name": "api_echo", "kwargs": {"count": 1}})
        assert status == 202
        arrived, event = stream.wait_for(lambda e: e.get("id") == task["id"], timeout=5)
        assert event == {"kind": "task", "id": task["id"], "name": "api_echo", "status": "queued", "progress": 0,
                         "owner": None}
        assert arrived - sent < 1.0
        assert "retry: 3000" in stream.fields


def test_a_worker_s_progress_reaches_every_web_process(start_web, service_environment, tmp_path):
    first, second = start_web(service_environment), start_web(service_environment)
    worker = Process(["worker", "--without-scheduler"], service_environment, tmp_path / "worker.log")
    try:
        with EventStream(second.url + "/api/events") as stream:
            time.sleep(0.3)
            status, task = post(first.url, "/api/tasks", {"name": "api_steps", "kwargs": {"steps": 4, "pause": 0.3}})
            seen = []
            while not seen or seen[-1]["status"] != "finished":
                seen.append(stream.wait_for(lambda e: e.get("id") == task["id"], timeout=20)[1])
            statuses = [e["status"] for e in seen]
            assert statuses[0] == "queued" and "running" in statuses and statuses[-1] == "finished"
            progress = [e["progress"] for e in seen if e["status"] == "running"]
            assert any(0 < p < 100 for p in progress), seen
            assert progress == sorted(progress)
            assert seen[-1]["progress"] == 100
    finally:
        worker.stop()


def test_the_stream_needs_the_token_as_header_or_query_parameter(start_web, service_environment):
    web = start_web({**service_environment, "RQLEDGER_API_TOKEN": "tok"})
    with EventStream(web.url + "/api/events") as refused:
        assert refused.response.status == 401
    with EventStream(web.url + "/api/events?token=tok") as stream:
        assert stream.response.status == 200
        time.sleep(0.3)
        post(web.url, "/api/tasks", {"name": "api_echo", "kwargs": {"count": 1}}, token="tok")
        assert stream.next(timeout=5)[1]["kind"] == "task"
    with EventStream(web.url + "/api/events", headers={"Authorization": "Bearer tok"}) as stream:
        assert stream.response.status == 200


def test_keep_alive_comments_flow_while_nothing_happens(make_app):
    app = make_app(RQLEDGER_QUEUE_BACKEND="memory")
    app.config["RQLEDGER_SSE_KEEPALIVE"] = 0.1
    response = app.test_client().get("/api/events", buffered=False)
    try:
        assert response.headers["Cache-Control"] == "no-cache"
        chunks = iter(response.response)
        assert next(chunks).startswith(b"retry: 3000\n")
        assert next(chunks) == b": keep-alive\n\n"
        assert next(chunks) == b": keep-alive\n\n"
    finally:
        response.close()


def test_streams_beyond_the_limit_are_503_and_a_closed_one_frees_its_slot(make_app):
    app = make_app(RQLEDGER_QUEUE_BACKEND="memory")
    app.config.update(RQLEDGER_MAX_STREAMS=1, RQLEDGER_SSE_KEEPALIVE=0.05)
    client = app.test_client()
    first = client.get("/api/events", buffered=False)
    assert first.status_code == 200
    refused = client.get("/api/events")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "10"
    first.close()
    again = client.get("/api/events", buffered=False)
    assert again.status_code == 200
    again.close()


@pytest.mark.parametrize("processes", [1, 2], ids=["waitress", "gunicorn"])
def test_a_stream_whose_client_left_frees_its_slot_within_seconds(service_environment, tmp_path, processes):
    """A dashboard clicked through page after page opens a stream per page and closes it on leaving: the
    server must notice each close at once, not at the next keep-alive 15 s later, or the process's 12
    stream slots (16 threads) run out and the pages after the 12th get 503 for the rest of those 15 s."""
    web = WebServer(service_environment, free_port(), tmp_path / "web.log", workers=processes)
    try:
        web.wait_ready()
        statuses = []
        for _ in range(2 * 12 * processes):  # twice every slot of every process, well within 15 s
            with EventStream(web.url + "/api/events", timeout=10) as stream:
                statuses.append(stream.response.status)
            time.sleep(0.25)  # a page load's time; the slot is free again within the ~1 s check
        assert statuses == [200] * len(statuses), statuses
        with EventStream(web.url + "/api/events", timeout=10) as stream:  # then one stays open and live
            assert stream.response.status == 200
            time.sleep(0.3)
            status, task = post(web.url, "/api/tasks", {"name": "api_echo", "kwargs": {"count": 1}})
            assert stream.wait_for(lambda e: e.get("id") == task["id"], timeout=5)
    finally:
        web.stop()
