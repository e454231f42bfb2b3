"""The Redis clients of the events adapter: short timeouts, so a dead Redis costs a second, not a minute."""

from __future__ import annotations

import redis

CHANNEL = "rqledger:events"


def connect(url: str, socket_timeout: float | None = 2.0) -> redis.Redis:
    """A client for `url`; `socket_timeout=None` for a pub/sub reader that waits on its own terms."""
    return redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=socket_timeout,
                                health_check_interval=30)
