"""`rqledger web` (waitress) refuses an oversized body before reading it, on every route.

Flask's MAX_CONTENT_LENGTH (1 MiB) only applies to a body the app reads; a route
that reads none (POST /api/tasks/1/cancel) would otherwise let waitress buffer up
to its own default of 1 GiB per request.
"""

from __future__ import annotations

import json
import socket

import pytest

from tests.api.processes import WebServer, service_env
from tests.services import free_port

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

MiB = 1024 * 1024


@pytest.fixture
def web(api_ledger_url, redis_url, tmp_path):
    server = WebServer(service_env(api_ledger_url, redis_url), free_port(), tmp_path / "web.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def exchange(server: WebServer, head: str, body_chunks=(), timeout: float = 5) -> str:
    """Sends a raw request; returns the answer's status line and body (or raises socket.timeout)."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1"))
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and hung up before the whole body was sent: what we want
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
            if b"\r\n\r\n" in received and len(received) > 4096:
                break
    return received.decode("latin-1")


def test_a_huge_declared_body_is_refused_at_once_on_a_route_that_reads_no_body(web):
    head = ("POST /api/tasks/1/cancel HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {100 * MiB}\r\nConnection: close\r\n\r\n")
    answer = exchange(web, head)  # nothing of the body is sent: a server that waits for it times out
    assert answer.startswith("HTTP/1.1 413"), answer[:200]


def test_a_huge_chunked_body_is_refused(web):
    head = ("POST /api/tasks/1/cancel HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (MiB, b" " * MiB)
    answer = exchange(web, head, [chunk] * 8 + [b"0\r\n\r\n"])
    assert answer.startswith("HTTP/1.1 413"), answer[:200]


def test_a_body_just_over_the_api_limit_gets_the_api_s_json_error(web):
    body = json.dumps({"name": "api_echo", "kwargs": {"count": 1, "label": "x" * (MiB + 10)}}).encode()
    head = ("POST /api/tasks HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    answer = exchange(web, head, [body])
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert '"code":"payload_too_large"' in answer.replace(" ", "")
