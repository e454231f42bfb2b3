"""Redis connections for RQ with timeouts, and the one place where redis errors become QueueUnavailable."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import redis
from redis.driver_info import DriverInfo
from redis.exceptions import RedisError

from rqledger.application.errors import QueueUnavailable

# A dead or unreachable Redis must cost a caller about a second, never a hang:
# connecting gives up after CONNECT_TIMEOUT, a command after SOCKET_TIMEOUT.
CONNECT_TIMEOUT = 1.5
SOCKET_TIMEOUT = 5.0

# Given to every client: without it redis-py reads its own version from the package
# metadata for each new connection (~0.8 ms), i.e. once per job in every work-horse.
DRIVER_INFO = DriverInfo(lib_version=redis.__version__)


def redis_connection(url: str, connect_timeout: float = CONNECT_TIMEOUT,
                     socket_timeout: float | None = SOCKET_TIMEOUT) -> redis.Redis:
    """A client for `url` with connect and command timeouts (no I/O happens until the first command).

    An RQ worker raises the socket timeout of its own connection above its blocking
    dequeue time; give it a connection of its own rather than a shared one.
    """
    return redis.Redis.from_url(url, socket_connect_timeout=connect_timeout, socket_timeout=socket_timeout,
                                health_check_interval=30, driver_info=DRIVER_INFO)


@contextmanager
def queue_errors(doing: str) -> Iterator[None]:
    """Turns a redis (or socket) error raised inside the block into QueueUnavailable naming what was done."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise QueueUnavailable(f"Redis could not {doing}: {describe_redis_error(exc)}") from exc


def describe_redis_error(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
