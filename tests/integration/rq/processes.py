"""Real `rqledger worker` processes for the tests: started in a session of their own, always killed."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from tests.processes import rqledger_command, wait_for  # noqa: F401 (its users import it from here)

ROOT = Path(__file__).resolve().parents[3]


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


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
