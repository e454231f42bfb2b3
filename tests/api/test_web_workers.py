"""`rqledger web --workers 2`: gunicorn, two server processes behind one port, each with its own engine and
Redis pool; the API, the event stream and health answer from either; gunicorn's own errors are JSON."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.processes import WebServer
from tests.api.sse_client import EventStream
from tests.services import free_port

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
def web(service_environment, tmp_path):
    server = WebServer(service_environment, free_port(), tmp_path / "web.log", workers=2)
    server.wait_ready()
    yield server
    server.stop()


def post(base: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(base + "/api/tasks", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Connection": "close"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def server_processes(web) -> list[int]:
    """The pids of the gunicorn master's children (the server processes)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == web.process.pid:
                children.append(int(entry))
    return children


def wait_for_server_processes(web, count: int, timeout: float = 30.0) -> list[int]:
    """gunicorn answers as soon as its first process booted and forks the next a moment later (seconds on a
    loaded machine): wait for `count` of them."""
    deadline = time.monotonic() + timeout
    while len(children := server_processes(web)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return children


def test_two_processes_answer_the_api_and_every_stream_sees_every_processs_tasks(web):
    assert len(wait_for_server_processes(web, 2)) == 2, web.output
    with EventStream(web.url + "/api/events") as stream:
        time.sleep(0.3)  # let the feed subscribe
        with ThreadPoolExecutor(8) as pool:  # a connection each: gunicorn spreads them over its processes
            answers = list(pool.map(lambda i: post(web.url, {"name": "api_echo", "kwargs": {"count": i}}), range(20)))
        assert [status for status, _ in answers] == [202] * 20
        ids = {task["id"] for _, task in answers}
        seen = set()
        deadline = time.monotonic() + 10
        while seen != ids and time.monotonic() < deadline:
            _, event = stream.wait_for(lambda e: e.get("id") in ids, timeout=10)
            seen.add(event["id"])
        assert seen == ids  # the stream's process saw the other process' enqueues too (through Redis)
    listed = json.loads(urllib.request.urlopen(web.url + "/api/tasks?limit=50", timeout=10).read())
    assert {t["id"] for t in listed["items"]} == ids
    with urllib.request.urlopen(web.url + "/api/health", timeout=5) as response:
        assert json.loads(response.read())["status"] == "ok"
    assert "Traceback" not in web.output


def test_gunicorns_own_answers_are_json(web):
    host, port = web.url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(b"GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Name: x\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"Content-Type: application/json" in head
    assert json.loads(body)["error"]["code"] == "bad_request"


def test_sigterm_stops_every_process(web):
    children = wait_for_server_processes(web, 2)
    assert len(children) == 2, web.output
    os.kill(web.process.pid, signal.SIGTERM)
    web.process.wait(30)
    time.sleep(0.2)
    assert not [pid for pid in children if os.path.exists(f"/proc/{pid}")
                and open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"]
