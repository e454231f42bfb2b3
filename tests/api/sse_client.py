"""A minimal Server-Sent Events client for the tests: a thread reads the stream, events wait in a queue."""

from __future__ import annotations

import http.client
import json
import queue
import threading
import time
from urllib.parse import urlsplit


class EventStream:
    def __init__(self, url: str, headers: dict | None = None, timeout: float = 30):
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.connection.request("GET", path, headers={"Accept": "text/event-stream", **(headers or {})})
        self.socket = self.connection.sock  # http.client lets go of it for a response that ends the connection
        self.response = self.connection.getresponse()
        self.frames: queue.Queue = queue.Queue()
        self.comments: list[str] = []
        self.fields: list[str] = []
        if self.response.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        data: list[str] = []
        try:
            while True:
                line = self.response.readline()
                if not line:
                    return
                text = line.decode("utf-8").rstrip("\r\n")
                if text == "":
                    if data:
                        self.frames.put((time.monotonic(), json.loads("\n".join(data))))
                        data = []
                elif text.startswith(":"):
                    self.comments.append(text[1:].strip())
                elif text.startswith("data:"):
                    data.append(text[5:].lstrip())
                else:
                    self.fields.append(text)
        except (OSError, ValueError, http.client.HTTPException, AttributeError):
            return  # closed by the test (http.client drops its file object under a reader: AttributeError)

    def next(self, timeout: float) -> tuple[float, dict]:
        """(arrival time, event); raises AssertionError after `timeout` s without one."""
        try:
            return self.frames.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None

    def wait_for(self, predicate, timeout: float) -> tuple[float, dict]:
        """The first event matching `predicate` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            arrived, event = self.next(max(deadline - time.monotonic(), 0.01))
            if predicate(event):
                return arrived, event

    def close(self) -> None:
        """Really goes away, as a browser leaving the page does: the server sees the connection end."""
        try:
            self.socket.shutdown(2)
        except OSError:
            pass
        self.socket.close()
        self.connection.close()

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
