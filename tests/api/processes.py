"""Real `rqledger web` and `rqledger worker` processes for the tests: each in a session of its own, always killed."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from tests.processes import rqledger_command, wait_for  # noqa: F401 (its users import it from here)

ROOT = Path(__file__).resolve().parents[2]
TASK_MODULES = "rqledger.demo,tests.api.tasks"


def service_env(database_url: str, redis_url: str, **extra: str) -> dict:
    """The environment of a service on this ledger and Redis, with the test task types."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "RQLEDGER_STORAGE": "sqlalchemy",
           "RQLEDGER_QUEUE_BACKEND": "rq", "RQLEDGER_TASK_MODULES": TASK_MODULES, "RQLEDGER_PROGRESS_INTERVAL": "0.3",
           "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    env.pop("RQLEDGER_API_TOKEN", None)
    env.update(extra)
    return env


class Process:
    """One `rqledger ...` subprocess; output goes to a file (a full pipe would block it)."""

    def __init__(self, args: list[str], env: dict, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([*rqledger_command(), *args], env=env, cwd=ROOT, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM to its whole process group, SIGKILL if it lingers."""
        for signum, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                break
            try:
                self.process.wait(grace)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # children may outlive the leader
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()


class WebServer(Process):
    def __init__(self, env: dict, port: int, log_path: Path, workers: int = 1):
        super().__init__(["web", "--host", "127.0.0.1", "--port", str(port), "--threads", "16", "--workers", str(workers)],
                         env, log_path)
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"rqledger web exited with {self.process.returncode}:\n{self.output}")
            try:
                urllib.request.urlopen(self.url + "/api/health", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # it answers (503 is an answer)
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"rqledger web did not answer within {timeout} s:\n{self.output}")
