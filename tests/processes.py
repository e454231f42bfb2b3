"""What tests that start rqledger processes share: the command to run, and polling with a deadline."""

from __future__ import annotations

import sys
import time
from pathlib import Path


def rqledger_command() -> list[str]:
    """The `rqledger` script of this interpreter's environment (or the CLI through python -c)."""
    script = Path(sys.executable).with_name("rqledger")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from rqledger.entrypoints.cli import main; main()"]


def wait_for(condition, timeout: float, interval: float = 0.05, what: str = "the condition", details=None):
    """Polls `condition()` until it returns something truthy (returned); fails after `timeout` seconds.

    `details`, a callable, adds what a failure message should show (e.g. a process's output).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{details()}" if details else ""
            raise AssertionError(f"{what} did not happen within {timeout} s (last: {value!r}){extra}")
        time.sleep(interval)
