"""Where the real services are, and how a test gets a private piece of each.

URLs come from RQLEDGER_TEST_POSTGRES_URL, RQLEDGER_TEST_MYSQL_URL and
RQLEDGER_TEST_REDIS_URL. An unreachable service skips the test with the reason,
or fails it when RQLEDGER_REQUIRE_SERVICES=1 (as in CI).
"""

from __future__ import annotations

import os
import socket
import uuid
from contextlib import ExitStack, contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_URL = os.environ.get("RQLEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("RQLEDGER_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("RQLEDGER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRED = os.environ.get("RQLEDGER_REQUIRE_SERVICES") == "1"


def unavailable(what: str, reason: str):
    """Skips the test, or fails it when the services are required."""
    message = f"{what} is not reachable ({reason}); set RQLEDGER_REQUIRE_SERVICES=1 to make this a failure"
    if REQUIRED:
        pytest.fail(f"{what} is required (RQLEDGER_REQUIRE_SERVICES=1) but not reachable: {reason}", pytrace=False)
    pytest.skip(message)


def reachable(url: str) -> str | None:
    """None when something listens at the URL's host and port, else the reason."""
    parts = urlsplit(url)
    default = {"postgresql": 5432, "mysql": 3306, "redis": 6379}
    port = parts.port or default.get(parts.scheme.split("+")[0], 0)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=2):
            return None
    except OSError as exc:
        return f"{parts.hostname}:{port}: {exc}"


@contextmanager
def private_redis_db():
    """A Redis database number of this test's own, locked against other test processes, flushed before and after.

    The locks and numbers (1-15; 0 is left to people) are the benchmark suite's, so a benchmark and a
    test never share a database.
    """
    from benchmarks.services import ServiceMissing
    from benchmarks.services import private_redis_db as locked_redis_db

    reason = reachable(REDIS_URL)
    if reason:
        unavailable("Redis", reason)
    with ExitStack() as stack:
        try:
            url = stack.enter_context(locked_redis_db(REDIS_URL))
        except ServiceMissing as exc:  # no free database number
            pytest.fail(str(exc))
        yield url


@contextmanager
def private_database(kind: str):
    """A fresh, empty database of its own on PostgreSQL or MariaDB; dropped afterwards. Yields its URL."""
    import sqlalchemy as sa

    server_url = {"postgresql": POSTGRES_URL, "mysql": MYSQL_URL}[kind]
    reason = reachable(server_url)
    if reason:
        unavailable({"postgresql": "PostgreSQL", "mysql": "MariaDB/MySQL"}[kind], reason)
    name = f"rqledger_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        parts = urlsplit(server_url)
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
