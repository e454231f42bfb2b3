"""Task types for the RQ integration tests (RQLEDGER_TASK_MODULES=tests.integration.rq.tasks in the worker)."""

import os
import time
from pathlib import Path

from rqledger import Retry, set_progress, task


@task
def greet(name: str) -> dict:
    return {"greeting": f"안녕하세요, {name}!", "한글": "데이터"}


@task
def answer() -> int:
    return 42


@task
def explode(message: str) -> dict:
    raise ValueError(f"boom: {message}")


@task(retry=Retry(max=2, interval=1))
def flaky(marker: str) -> dict:
    """Fails the first time (leaving `marker` behind), succeeds after."""
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise RuntimeError("first attempt fails on purpose")
    return {"recovered": True}


@task(timeout=1)
def oversleep(seconds: float) -> dict:
    time.sleep(seconds)
    return {"slept": seconds}


@task
def nap(seconds: float) -> dict:
    """Sleeps in small steps, reporting progress."""
    steps = max(int(seconds / 0.05), 1)
    for i in range(steps):
        time.sleep(seconds / steps)
        set_progress(100 * (i + 1) // steps)
    return {"slept": seconds}


@task
def progress_loop(calls: int, seconds: float) -> dict:
    """Calls set_progress `calls` times spread over `seconds`."""
    for i in range(calls):
        set_progress(100 * i // calls)
        time.sleep(seconds / calls)
    return {"calls": calls}


@task(unique=True)
def singleton(seconds: float) -> dict:
    time.sleep(seconds)
    return {"pid": os.getpid()}


@task
def die() -> dict:
    """Kills its own process, as the OOM killer would."""
    os.kill(os.getpid(), 9)
    return {}


@task
def unstorable() -> object:
    return {"a set": {1, 2, 3}}


@task(retry=Retry(max=2))
def flaky_now(marker: str) -> dict:
    """Fails its first attempt, then succeeds; retried at once (no interval)."""
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise RuntimeError("first attempt fails")
    return {"attempt": "second"}
