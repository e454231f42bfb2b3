"""Server-Sent Events: the change events of the process's event feed, as a text/event-stream body."""

from __future__ import annotations

import json
import queue
import select
import socket
import ssl
import time
from typing import Callable, Iterator

RETRY_MS = 3000  # how long a browser waits before it reconnects
BACKLOG = 1000  # events buffered for one slow client before it is told to re-read instead
GONE_CHECK = 1.0  # how often (s) a stream looks whether its client went away, when the server can tell


def event_stream(feed, keepalive: float = 15.0, gone: Callable[[], bool] | None = None) -> Iterator[str]:
    """Yields SSE frames: every event of `feed` as JSON `data`, and a comment every `keepalive` s of silence.

    The subscription ends when the client goes away: within GONE_CHECK s when `gone()` can tell (see
    `client_gone`), else when the server closes this generator because the next keep-alive could not be
    written. Until then the stream holds a server thread and one of the process's stream slots.
    A client that falls too far behind gets {"kind": "resync"}: re-read the lists.
    """
    inbox: queue.Queue = queue.Queue(maxsize=BACKLOG)
    overflow = []

    def receive(event: dict) -> None:
        try:
            inbox.put_nowait(event)
        except queue.Full:
            overflow.append(True)

    feed.subscribe(receive)
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        wait = min(keepalive, GONE_CHECK) if gone is not None else keepalive
        last_write = time.monotonic()
        while True:
            try:
                event = inbox.get(timeout=wait)
            except queue.Empty:
                if gone is not None and gone():
                    return
                if time.monotonic() - last_write >= keepalive:
                    last_write = time.monotonic()
                    yield ": keep-alive\n\n"
                continue
            if overflow:
                overflow.clear()
                _drain(inbox)
                event = {"kind": "resync"}
            last_write = time.monotonic()
            yield frame(event)
    finally:
        feed.unsubscribe(receive)


def client_gone(environ: dict) -> Callable[[], bool] | None:
    """A check whether the client of this request closed its connection, where the server offers one.

    waitress: `waitress.client_disconnected` (it needs `channel_request_lookahead` > 0 to see the close while
    the request runs). gunicorn: its socket, which an event-stream client never writes to again, so a
    readable socket with nothing to read is a closed one. Other servers: None.
    """
    waitress_check = environ.get("waitress.client_disconnected")
    if callable(waitress_check):
        return waitress_check
    sock = environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket) and not isinstance(sock, ssl.SSLSocket):  # TLS: no peeking
        return lambda: _closed(sock)
    return None


def _closed(sock: socket.socket) -> bool:
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):  # reset by the peer, or already closed here
        return True


def frame(event: dict) -> str:
    """One SSE message: the event as a single `data:` line of JSON (compact JSON has no newlines)."""
    return f"data: {json.dumps(event, default=str, separators=(',', ':'))}\n\n"


def _drain(inbox: queue.Queue) -> None:
    while True:
        try:
            inbox.get_nowait()
        except queue.Empty:
            return
