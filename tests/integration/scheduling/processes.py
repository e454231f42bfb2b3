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
            proc = subprocess.Popen([RQLEDGER, *args], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
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
        for proc, _ in self.started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def base_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RQLEDGER_") and k not in ("DATABASE_URL", "REDIS_URL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env
