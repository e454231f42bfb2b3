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


@task(unique=True, description="Export a user's posts")
def export_user_posts(user_id: int) -> dict:
    set_progress(50)
    return {"user": user_id, "posts": 3}


@task
def fan_out(user_id: int) -> dict:
    """Enqueues another task from inside a worker (on the worker's own ledger)."""
    return {"child": export_user_posts.using(owner=user_id).enqueue(user_id).id}


def _record_span(folder: str, label: str, seconds: float) -> dict:
    """Writes `<label>.start` (time and pid) when it begins and `<label>.end` when it is done."""
    started = time.time()
    (Path(folder) / f"{label}.start").write_text(f"{started} {os.getpid()}")
    time.sleep(seconds)
    ended = time.time()
    (Path(folder) / f"{label}.end").write_text(str(ended))
    return {"start": started, "end": ended}


@task(concurrency=1)
def one_at_a_time(folder: str, label: str, seconds: float) -> dict:
    return _record_span(folder, label, seconds)


@task(concurrency_per_owner=1)
def one_per_owner(folder: str, label: str, seconds: float) -> dict:
    return _record_span(folder, label, seconds)


@task(rate_limit="2/3s")
def two_per_three_seconds(folder: str, label: str) -> dict:
    return _record_span(folder, label, 0)


@task
def whoami() -> dict:
    """The process that ran it (the pooled worker runs many tasks in one process)."""
    return {"pid": os.getpid()}


_HELD: list[bytearray] = []


@task
def hog(megabytes: int) -> dict:
    """Keeps `megabytes` of memory after it returns, as a leaking task does."""
    _HELD.append(bytearray(b"x" * (megabytes * 2**20)))
    return {"pid": os.getpid()}
