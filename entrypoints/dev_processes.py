"""Child processes for `rqledger dev`: started in sessions of their own, their output prefixed, stopped for sure.

Each child leads its own process group, so the terminal's Ctrl-C reaches only
the supervisor, which then stops the children in its own order. Stopping ends
the child's group and every process it started: RQ's work-horses lead groups of
their own (RQ calls setpgrp), so they are found as descendants (psutil). On
Linux a child also gets SIGTERM if the supervisor itself is killed (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Callable, TextIO

import psutil

_PR_SET_PDEATHSIG = 1


def _load_libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_libc = _load_libc()  # loaded in the parent: the child, right after fork, only makes one call


def die_with_parent() -> None:
    """A preexec_fn: the child gets SIGTERM when the process that started it dies (Linux only)."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Output:
    """Writes lines of every child to one stream, whole lines at a time, each prefixed with its name."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        with self._lock:
            try:
                self.stream.write(f"{name:<9} | {text.rstrip()}\n")
                self.stream.flush()
            except (ValueError, OSError):
                pass  # the terminal went away: the children must still be stopped


class Child:
    """One long-running rqledger process."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], output: Output, cwd: str | None = None):
        self.name = name
        self.argv = argv
        self.env = env
        self.output = output
        self.cwd = cwd
        self.process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent,
            text=True, encoding="utf-8", errors="replace", bufsize=1)
        self._reader = threading.Thread(target=self._copy_output, name=f"dev-{self.name}-output", daemon=True)
        self._reader.start()

    def exited(self) -> int | None:
        """The exit code once it has exited, else None."""
        return self.process.poll() if self.process else None

    def terminate(self) -> None:
        """Asks it to stop: SIGTERM to the leader only (RQ's worker then finishes its task: a warm shutdown)."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.kill(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def kill_group(self) -> None:
        """SIGKILL to its whole process group: nothing it started survives."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, deadline: float, hurry: threading.Event | None = None) -> bool:
        """Waits for the leader until `deadline` (time.monotonic()) or `hurry`; True when it has exited."""
        while self.process is not None and self.process.poll() is None:
            if time.monotonic() >= deadline or (hurry is not None and hurry.is_set()):
                return False
            time.sleep(0.05)
        return True

    def descendants(self) -> list[psutil.Process]:
        """Everything it started (RQ work-horses included), as of now."""
        if self.process is None or self.process.poll() is not None:
            return []
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return []

    def group_alive(self) -> bool:
        if self.process is None:
            return False
        try:
            os.killpg(self.process.pid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False

    def join_output(self, timeout: float = 2.0) -> None:
        if self._reader is not None:
            self._reader.join(timeout)

    def _copy_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for text in self.process.stdout:
            self.output.line(self.name, text)


COLD_WAIT = 5.0  # seconds after the second SIGTERM before SIGKILL
SECOND_SIGNAL_AFTER = 1.1  # RQ ignores a second signal that comes within 1 s of the first


def stop_all(children: list[Child], grace: float, say: Callable[[str], None],
             hurry: threading.Event | None = None) -> None:
    """Stops every child: SIGTERM, up to `grace` s (or until `hurry`); then a second SIGTERM; then SIGKILL.

    For an RQ worker the first SIGTERM is a warm shutdown (its task may finish) and the
    second a cold one: it kills the work-horse and the ledger records that attempt as
    failed (or requeued by its retry policy) at once, so no row is left running.
    """
    started = [p for child in children for p in child.descendants()]  # no new ones once they are told to stop
    first_signal = time.monotonic()
    for child in children:
        child.terminate()
    deadline = first_signal + grace
    late = [child for child in children if not child.wait(deadline, hurry)]
    if late:
        say(f"{', '.join(c.name for c in late)} still busy after {time.monotonic() - first_signal:.0f} s: "
            f"stopping the running tasks")
        time.sleep(max(0.0, first_signal + SECOND_SIGNAL_AFTER - time.monotonic()))
        for child in late:
            child.terminate()
        cold_deadline = time.monotonic() + COLD_WAIT
        for child in late:
            if not child.wait(cold_deadline):
                say(f"{child.name} did not stop: killing it")
    for child in children:
        # the leader may be gone while something it forked lingers in its group
        if child.group_alive():
            child.kill_group()
    for process in started:
        try:
            process.kill()
        except psutil.Error:
            pass  # already gone: the usual case
    psutil.wait_procs(started, timeout=5)
    for child in children:
        if child.process is not None and child.process.poll() is None:
            child.process.wait()
        child.join_output()
