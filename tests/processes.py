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


WORKER_KINDS = ("--simple", "--concurrency", "-c", "--fork-per-task")


def with_kind(args) -> list[str]:
    """`rqledger worker` arguments that name a kind of worker: the forking one unless the test names one.

    The suites of the worker's guarantees (tests/integration/rq, tests/faults) were written for the forking
    worker; the pooled one, the command's default, has its own (test_pooled_worker.py, the chaos test)."""
    args = list(args)
    return args if any(arg in WORKER_KINDS for arg in args) else [*args, "--fork-per-task"]
