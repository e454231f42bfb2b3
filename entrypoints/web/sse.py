"""Server-Sent Events: the change events of the process's event feed, as a text/event-stream body."""

from __future__ import annotations

import json
import queue
from typing import Iterator

RETRY_MS = 3000  # how long a browser waits before it reconnects
BACKLOG = 1000  # events buffered for one slow client before it is told to re-read instead


def event_stream(feed, keepalive: float = 15.0) -> Iterator[str]:
    """Yields SSE frames: every event of `feed` as JSON `data`, and a comment every `keepalive` s of silence.

    The subscription ends when the client goes away: the server closes this
    generator (at the latest when the next keep-alive cannot be written).
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
        while True:
            try:
                event = inbox.get(timeout=keepalive)
            except queue.Empty:
                yield ": keep-alive\n\n"
                continue
            if overflow:
                overflow.clear()
                _drain(inbox)
                event = {"kind": "resync"}
            yield frame(event)
    finally:
        feed.unsubscribe(receive)


def frame(event: dict) -> str:
    """One SSE message: the event as a single `data:` line of JSON (compact JSON has no newlines)."""
    return f"data: {json.dumps(event, default=str, separators=(',', ':'))}\n\n"


def _drain(inbox: queue.Queue) -> None:
    while True:
        try:
            inbox.get_nowait()
        except queue.Empty:
            return
