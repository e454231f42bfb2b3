"""Real `rqledger worker` processes for the tests: started in a session of their own, always killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def rqledger_command() -> list[str]:
    script = Path(sys.executable).with_name("rqledger")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from entrypoints.cli import main; main()"]


class WorkerProcess:
    """One `rqledger worker ...` subprocess; its output goes to a file (a full pipe would block it)."""

    def __init__(self, env: dict, log_path: Path, *args: str):
        self.log_path = log_path
        self._log = open(log_path, "ab")
        # a session of its own: teardown kills the work-horse and RQ's scheduler process with it
        self.process = subprocess.Popen([*rqledger_command(), "worker", *args], env=env, cwd=ROOT,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the worker did not exit within {timeout} s:\n{self.output}") from None

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(10)
        else:  # its children (work-horse, scheduler) may outlive it
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "the condition"):
    """Polls `predicate` until it returns something truthy (returned), or fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s (last: {value!r})")
        time.sleep(interval)
