"""Starting `rqledger` processes as a user would, and always stopping them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from tests.processes import wait_for  # noqa: F401 (its users import it from here)

ROOT = Path(__file__).resolve().parents[3]
RQLEDGER = str(Path(sys.executable).with_name("rqledger"))


class Processes:
    """The `rqledger` processes of one test; `stop_all()` (teardown) kills whatever is still running."""

    def __init__(self, env: dict, logs: Path):
        self.env = env
        self.logs = logs
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, *args: str) -> subprocess.Popen:
        log = self.logs / f"{len(self.started):02d}-{args[0]}.log"
        with open(log, "wb") as out:
            # a session of its own: teardown kills the process group, children included
            proc = subprocess.Popen([RQLEDGER, *args], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.started.append((proc, log))
        return proc

    def terminate(self, proc: subprocess.Popen, timeout: float = 15) -> int:
        """SIGTERM, then waits for the exit; returns the exit code."""
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout)

    def kill(self, proc: subprocess.Popen) -> None:
        proc.kill()
        proc.wait(timeout=10)

    def output(self) -> str:
        return "\n".join(f"--- {log.name} ---\n{log.read_text(errors='replace')}" for _, log in self.started)

    def stop_all(self) -> None:
        """SIGKILL to every process group, children included: a worker's forked child (RQ's scheduler) holds a
        copy of the worker's Redis socket, so a BLMOVE the worker was blocked in stays open on the server and
        would take the first job the next test (given the same database number) pushes."""
        for proc, _ in self.started:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if proc.poll() is None:
                proc.wait(timeout=10)


def base_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RQLEDGER_") and k not in ("DATABASE_URL", "REDIS_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env
