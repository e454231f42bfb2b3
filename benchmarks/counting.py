"""Counting what a piece of code asks of the database and of Redis.

- SqlCounter: statements, commits and new connections on an engine (SQLAlchemy
  events, so only this process: a forked work-horse counts for itself).
- RoundTrips: requests this process sent to Redis (a pipeline is one), counted in
  redis-py's connection class while the block runs.
- CommandStats: commands a Redis server executed (INFO commandstats); exact only on
  a server nobody else uses, such as services.counting_redis().
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import redis
from redis.connection import AbstractConnection
from sqlalchemy import event


@dataclass
class SqlCounts:
    statements: int = 0
    commits: int = 0
    connects: int = 0
    kinds: Counter = field(default_factory=Counter)  # first word of each statement: SELECT, INSERT, ...


@contextmanager
def sql_counter(engine) -> Iterator[SqlCounts]:
    """Counts what `engine` executes inside the block."""
    counts = SqlCounts()

    def statement(conn, cursor, text, parameters, context, executemany):
        counts.statements += 1
        counts.kinds[text.lstrip().split(None, 1)[0].upper()] += 1

    def commit(conn):
        counts.commits += 1

    def connect(dbapi_connection, record):
        counts.connects += 1

    pool = engine.pool
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    event.listen(pool, "connect", connect)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
        event.remove(pool, "connect", connect)


@dataclass
class RoundTripCount:
    sends: int = 0


@contextmanager
def round_trips() -> Iterator[RoundTripCount]:
    """Counts requests sent to any Redis from this process (one per command, one per pipeline) in the block."""
    count = RoundTripCount()
    original = AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        count.sends += 1
        return original(self, command, check_health)

    AbstractConnection.send_packed_command = counted
    try:
        yield count
    finally:
        AbstractConnection.send_packed_command = original


class CommandStats:
    """Commands executed by one Redis server between two readings, by name (INFO itself left out)."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url)

    def reading(self) -> Counter:
        stats = self.client.info("commandstats")
        return Counter({name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()})

    @contextmanager
    def delta(self) -> Iterator[Counter]:
        """A Counter filled, when the block ends, with the commands run during it."""
        found: Counter = Counter()
        before = self.reading()
        try:
            yield found
        finally:
            after = self.reading()
            found.update(after - before)
            found.pop("info", None)

    def close(self) -> None:
        self.client.close()
