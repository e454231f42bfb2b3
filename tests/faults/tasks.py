"""Task types for the fault tests; the workers import this module (RQLEDGER_TASK_MODULES)."""

import os
import time
from pathlib import Path

from rqledger import Retry, task


@task(timeout=120)
def sleepy(seconds: float) -> dict:
    """Sleeps; a target for kills."""
    time.sleep(seconds)
    return {"slept": seconds}


@task(timeout=120, retry=Retry(max=1))
def sleepy_once(marker: str, seconds: float) -> dict:
    """Sleeps `seconds` on its first attempt (leaving `marker`), returns at once on the next ones."""
    path = Path(marker)
    if path.exists():
        return {"slept": 0}
    path.write_text("first attempt")
    time.sleep(seconds)
    return {"slept": seconds}


@task(timeout=60, retry=Retry(max=2))
def chaotic(i: int, seconds: float = 0.0) -> dict:
    """Every 20th raises (so 5% fail for good after 3 attempts); the others return i * 2."""
    if seconds:
        time.sleep(seconds)
    if i % 20 == 0:
        raise ValueError(f"chaotic {i} fails on purpose")
    return {"double": i * 2}


@task(timeout=60)
def trivial(i: int) -> dict:
    return {"i": i}


@task(timeout=60)
def tick(label: str) -> dict:
    """A schedule's body: returns at once."""
    return {"label": label}


def _stamp(path: str, what: str) -> None:
    """One line per moment of a run: what, the ledger attempt (from the job), the pid, the time."""
    from rq import get_current_job

    job = get_current_job()
    attempt = job.meta.get("attempt") if job is not None else None
    with open(path, "a") as file:
        file.write(f"{what} {attempt} {os.getpid()} {time.time():.6f}\n")


@task(timeout=60)
def timed(path: str, seconds: float) -> dict:
    """Sleeps, writing its start and end (attempt, pid, time) to `path`: the audit of overlapping runs."""
    _stamp(path, "start")
    time.sleep(seconds)
    _stamp(path, "end")
    return {"slept": seconds}


@task(timeout=60, retry=Retry(max=1, interval=0))
def timed_retry(path: str, seconds: float) -> dict:
    """The same, with one immediate retry (what a reconciler that gave up on a live run would start)."""
    _stamp(path, "start")
    time.sleep(seconds)
    _stamp(path, "end")
    return {"slept": seconds}
