"""The Redis clients of the events adapter: short timeouts, so a dead Redis costs a second, not a minute."""

from __future__ import annotations

import redis
from redis.driver_info import DriverInfo

CHANNEL = "rqledger:events"

# redis-py reads its version from the package metadata for each new connection without it (~0.8 ms each)
DRIVER_INFO = DriverInfo(lib_version=redis.__version__)


def channel_for(url: str) -> str:
    """The events channel of the Redis database in `url`.

    Pub/sub ignores database numbers, so two deployments (or two tests) sharing a
    Redis server on different databases would see each other's events without it.
    """
    db = redis.connection.parse_url(url).get("db", 0) or 0
    return f"{CHANNEL}:{db}"


def connect(url: str, socket_timeout: float | None = 2.0) -> redis.Redis:
    """A client for `url`; `socket_timeout=None` for a pub/sub reader that waits on its own terms."""
    return redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=socket_timeout,
                                health_check_interval=30, driver_info=DRIVER_INFO)
