"""The reading side: one pub/sub connection per process, fanned out to every live view in it."""

from __future__ import annotations

import json
import logging
import threading
from typing import Callable

from redis.exceptions import RedisError

from rqledger.adapters.redis_events.connection import channel_for, connect

log = logging.getLogger(__name__)

# Sent to subscribers after the feed lost Redis for a while: they may have missed events and should re-read.
RESYNC = {"kind": "resync"}


class RedisEventFeed:
    """Delivers every event published on the channel to the callbacks subscribed in this process.

    A single daemon thread listens (started by the first subscriber), so a web
    process holds one Redis connection however many browsers watch it. When
    Redis goes away the thread reconnects with a growing pause, and then tells
    every subscriber to re-read (RESYNC) since events may have been lost meanwhile.
    """

    def __init__(self, url: str, channel: str | None = None, poll: float = 1.0, max_pause: float = 5.0):
        self.url = url
        self.channel = channel or channel_for(url)
        self.poll = poll
        self.max_pause = max_pause
        self._subscribers: list[Callable[[dict], None]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.connected = threading.Event()

    def subscribe(self, callback: Callable[[dict], None]) -> None:
        with self._lock:
            self._subscribers.append(callback)
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._listen, name="rqledger-event-feed", daemon=True)
                self._thread.start()

    def unsubscribe(self, callback: Callable[[dict], None]) -> None:
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    def close(self) -> None:
        """Stops the listening thread (tests; a web process just exits)."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=self.poll + 3)

    def _listen(self) -> None:
        pause = 0.2
        lost = False
        while not self._stop.is_set():
            client = pubsub = None
            try:
                client = connect(self.url, socket_timeout=self.poll + 5)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                self.connected.set()
                if lost:
                    self._deliver(dict(RESYNC))
                    lost = False
                pause = 0.2
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=self.poll)
                    if message is not None and message.get("type") == "message":
                        self._deliver_raw(message["data"])
            except (RedisError, OSError) as exc:
                if not lost:
                    log.warning("event feed lost Redis (%s); reconnecting", exc)
                lost = True
                self.connected.clear()
                self._stop.wait(pause)
                pause = min(pause * 2, self.max_pause)
            finally:
                for closable in (pubsub, client):
                    try:
                        if closable is not None:
                            closable.close()
                    except (RedisError, OSError):
                        pass
        self.connected.clear()

    def _deliver_raw(self, data) -> None:
        try:
            event = json.loads(data)
        except (ValueError, TypeError):
            log.warning("ignored a malformed event on %s: %r", self.channel, data[:200])
            return
        if isinstance(event, dict):
            self._deliver(event)

    def _deliver(self, event: dict) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(dict(event))
            except Exception:  # one broken view must not starve the others
                log.exception("an event subscriber failed")
