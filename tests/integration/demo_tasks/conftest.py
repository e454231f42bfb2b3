"""A local web server for URLs, and a service container (memory adapters) with a private media and outbox folder.

The web server is on 127.0.0.1, which the demo tasks refuse to fetch unless RQLEDGER_FETCH_ALLOW_PRIVATE is on:
the service's environment turns it on, and asking for `site` installs the service (a test that wants the
default changes `service_env` first).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rqledger.entrypoints import runtime
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings


class Site:
    """Pages served at http://127.0.0.1:<port>/<path>: path -> (status, content type, body)."""

    def __init__(self):
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        self.url = ""

    def page(self, path: str, body: str | bytes, content_type: str = "text/plain; charset=utf-8",
             status: int = 200) -> str:
        self.pages[path] = (status, content_type, body.encode() if isinstance(body, str) else body)
        return f"{self.url}{path}"


@pytest.fixture
def site(service):
    served = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, content_type, body = served.pages.get(self.path, (404, "text/plain", b"not here"))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def service_env(tmp_path):
    """The environment of the service the tasks run in; a test may change it before asking for `service`."""
    return {"RQLEDGER_STORAGE": "memory", "RQLEDGER_QUEUE_BACKEND": "memory", "RQLEDGER_TASK_MODULES": "rqledger.demo",
            "RQLEDGER_MEDIA_DIR": str(tmp_path / "media"), "RQLEDGER_MAIL_OUTBOX": str(tmp_path / "outbox"),
            "RQLEDGER_FETCH_ALLOW_PRIVATE": "1"}


@pytest.fixture
def service(service_env):
    """A container built from `service_env`, installed as the one the tasks see (as a worker would)."""
    container = build_container(load_settings(service_env))
    runtime.install(container)
    yield container
    runtime.reset()
