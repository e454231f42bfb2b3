"""An EventPublisher that sends each event with one PUBLISH and never raises."""

from __future__ import annotations

import json
import logging
import threading
import time

from redis.exceptions import RedisError

from rqledger.adapters.redis_events.connection import channel_for, connect

log = logging.getLogger(__name__)


class RedisEventPublisher:
    """Publishes change events as JSON on a Redis channel.

    Events are a courtesy to live views (the ledger is the truth), so a failure is
    logged and dropped. After a failure it stays quiet for `pause` seconds: a task
    reporting progress while Redis is down must not wait for a connect timeout each time.
    """

    def __init__(self, url: str, channel: str | None = None, pause: float = 5.0, client=None):
        self.url = url
        self.channel = channel or channel_for(url)
        self.pause = pause
        self._client = client
        self._borrowed = client is not None  # someone else's client: close() leaves it open
        self._quiet_until = 0.0
        self._lock = threading.Lock()

    def publish(self, event: dict) -> None:
        if time.monotonic() < self._quiet_until:
            return
        try:
            payload = json.dumps(event, default=str, allow_nan=False)
            self._connection().publish(self.channel, payload)
        except (RedisError, OSError) as exc:
            self._quiet_until = time.monotonic() + self.pause
            log.warning("event not published (Redis: %s); live views will catch up on their next read", exc)
        except (TypeError, ValueError) as exc:  # an event JSON cannot hold: a bug, but never the task's problem
            log.error("event %r not published: %s", event, exc)

    def publish_many(self, events) -> None:
        """All in one pipeline: one round trip however many there are."""
        if not events or time.monotonic() < self._quiet_until:
            return
        try:
            with self._connection().pipeline(transaction=False) as pipe:
                if self.publish_in(pipe, events):
                    pipe.execute()
        except (RedisError, OSError) as exc:
            self._quiet_until = time.monotonic() + self.pause
            log.warning("%d events not published (Redis: %s); live views will catch up on their next read",
                        len(events), exc)

    def publish_in(self, pipe, events) -> int:
        """Adds a PUBLISH of each event to `pipe`, a pipeline of a client of the same Redis (someone
        else's: e.g. the one that enqueues the jobs these events announce); returns how many."""
        added = 0
        for event in events:
            try:
                payload = json.dumps(event, default=str, allow_nan=False)
            except (TypeError, ValueError) as exc:
                log.error("event %r not published: %s", event, exc)
                continue
            pipe.publish(self.channel, payload)
            added += 1
        return added

    def _connection(self):
        with self._lock:
            if self._client is None:
                self._client = connect(self.url)
            return self._client

    def over(self, client) -> "RedisEventPublisher":
        """The same channel, published over an open client of the same Redis (e.g. an RQ job's
        connection), which saves a work-horse a connection of its own per job (~6 ms)."""
        return RedisEventPublisher(self.url, channel=self.channel, pause=self.pause, client=client)

    def close(self) -> None:
        with self._lock:
            if self._client is not None and not self._borrowed:
                self._client.close()
                self._client = None
