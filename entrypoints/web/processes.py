"""`rqledger web --workers N` with N > 1: gunicorn runs N server processes behind one port.

One waitress process spends 3-4 ms of CPU per enqueue, so it cannot pass a few hundred requests a
second whatever its threads. gunicorn (the Flask ecosystem's convention on POSIX) forks N processes
that share the listening socket; each builds its own app, container, database engine and Redis pool
after the fork (the app is not preloaded: no connection crosses a fork). Each process serves with
threads (gunicorn's gthread worker), so a dashboard's event stream holds a thread, as with waitress,
and the streams' limit is per process. Events still reach every process: they travel through Redis.
gunicorn's own answers (a malformed request line, headers too large) are JSON like the API's.
"""

from __future__ import annotations

import json
from typing import Callable

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from rqledger.entrypoints.web.errors import HTTP_CODES, error_body

OWN_CODES = {414: "uri_too_long", 431: "headers_too_large", 501: "not_implemented"}


class JsonErrorWorker(ThreadWorker):
    """gunicorn's threaded worker whose own error answers are the API's JSON, not gunicorn's HTML page."""

    def init_process(self):
        import gunicorn.util

        gunicorn.util.write_error = write_json_error  # this worker process serves rqledger only
        super().init_process()


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    from gunicorn.util import write_nonblock

    code = HTTP_CODES.get(status_int) or OWN_CODES.get(status_int) or (
        "bad_request" if status_int < 500 else "internal_error")
    message = (f"{reason.lower()}: {mesg}" if mesg else reason.lower()) if status_int < 500 else \
        "an unexpected error occurred; it was logged on the server"
    body = json.dumps(error_body(code, message)).encode("utf-8")
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n")
    write_nonblock(sock, head.encode("latin-1") + body)


class Server(BaseApplication):
    """gunicorn configured from `rqledger web`'s options; `app_factory()` runs in each process after the fork."""

    def __init__(self, app_factory: Callable, host: str, port: int, workers: int, threads: int):
        self.app_factory = app_factory
        self.options = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "worker_class": "rqledger.entrypoints.web.processes.JsonErrorWorker",
            "threads": threads,
            "preload_app": False,  # each process its own engine and Redis pool
            "timeout": 120,  # a process that stops heart-beating this long is restarted
            "graceful_timeout": 20,  # SIGTERM: open requests may finish
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "rqledger-web",
            "limit_request_line": 8190,
            "limit_request_fields": 100,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.app_factory()
