"""A Redis liveness probe for GET /api/health."""

from __future__ import annotations

import threading

from redis.exceptions import RedisError

from rqledger.adapters.redis_events.connection import connect
from rqledger.application.errors import QueueUnavailable


class RedisPing:
    """Calling it PINGs Redis; raises QueueUnavailable with the reason when Redis does not answer."""

    def __init__(self, url: str):
        self.url = url
        self._client = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        try:
            with self._lock:
                if self._client is None:
                    self._client = connect(self.url)
                client = self._client
            client.ping()
        except (RedisError, OSError) as exc:
            raise QueueUnavailable(f"Redis at {_safe(self.url)} does not answer: {exc}") from None


def _safe(url: str) -> str:
    """The URL without its password, fit for an error message."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}:{parts.port or 6379}{parts.path}"
