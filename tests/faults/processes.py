"""Real `rqledger` processes for the fault tests, found and killed through /proc, always cleaned up.

Each process starts in a session of its own. A work-horse moves to a process
group of its own (RQ calls setpgrp) and outlives a SIGKILLed worker, so
clean-up kills by session, which nothing here leaves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from tests.processes import rqledger_command, wait_for  # noqa: F401 (its users import it from here)

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    pgid: int
    sid: int


def processes() -> list[ProcInfo]:
    """Every process's ids, from /proc/<pid>/stat."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # it ended meanwhile
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if fields[0] == "Z":
            continue  # a zombie is dead already
        found.append(ProcInfo(int(entry), int(fields[1]), int(fields[2]), int(fields[3])))
    return found


def kill_quietly(pid: int, signum: int = signal.SIGKILL) -> bool:
    try:
        os.kill(pid, signum)
        return True
    except ProcessLookupError:
        return False


class Service:
    """One `rqledger ...` subprocess; its output goes to a file (a full pipe would block it)."""

    def __init__(self, args: list[str], env: dict, log_path: Path):
        self.args = args
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([*rqledger_command(), *args], env=env, cwd=ROOT, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.process.pid

    @property
    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def horse(self) -> int | None:
        """The pid of this worker's work-horse while it runs a job (a child in a process group of its own)."""
        for proc in processes():
            if proc.ppid == self.pid and proc.pgid == proc.pid:
                return proc.pid
        return None

    def session(self) -> list[int]:
        """Every live process of this service: itself, its work-horses (orphaned ones too), its scheduler."""
        return [proc.pid for proc in processes() if proc.sid == self.pid]

    def kill(self) -> None:
        """SIGKILL to the parent only (its work-horse, if any, runs on as an orphan)."""
        kill_quietly(self.pid)
        self.process.wait(10)

    def terminate(self, timeout: float = 20) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill_all(self) -> None:
        """SIGKILL to every process of its session, until none is left."""
        for _ in range(50):
            pids = self.session()
            if not pids and self.process.poll() is not None:
                break
            for pid in pids:
                kill_quietly(pid)
            if self.process.poll() is None:
                try:
                    self.process.wait(0.1)
                except subprocess.TimeoutExpired:
                    pass
            else:
                time.sleep(0.05)
        self._log.close()


class Services:
    """The processes of one test; `stop_all()` (teardown) kills every one of them and their children."""

    def __init__(self, env: dict, logs: Path):
        self.env = env
        self.logs = logs
        self.started: list[Service] = []

    def start(self, *args: str, **extra_env: str) -> Service:
        log = self.logs / f"{len(self.started):02d}-{args[0]}.log"
        service = Service(list(args), {**self.env, **extra_env}, log)
        self.started.append(service)
        return service

    def output(self) -> str:
        return "\n".join(f"--- {s.log_path.name} ({' '.join(s.args)}) ---\n{s.output[-6000:]}" for s in self.started)

    def stop_all(self) -> None:
        for service in self.started:
            service.kill_all()
