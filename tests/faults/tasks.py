"""Task types for the fault tests; the workers import this module (RQLEDGER_TASK_MODULES)."""

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
