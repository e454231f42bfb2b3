"""Task types of the API tests (imported through RQLEDGER_TASK_MODULES; names start with api_ to stay apart)."""

import time

from rqledger import Retry, set_progress, task


@task(description="Returns its arguments")
def api_echo(count: int, ratio: float = 1.0, flag: bool = False, label: str = "x", items: list | None = None) -> dict:
    return {"count": count, "ratio": ratio, "flag": flag, "label": label, "items": items}


@task(description="At most one queued or running per owner", unique=True)
def api_unique(seconds: float = 0) -> dict:
    time.sleep(seconds)
    return {"slept": seconds}


@task(description="Always raises", retry=Retry(max=0))
def api_fail(message: str = "boom") -> None:
    raise ValueError(message)


@task(description="Reports progress in steps")
def api_steps(steps: int = 5, pause: float = 0.3) -> dict:
    for i in range(steps):
        time.sleep(pause)
        set_progress(100 * (i + 1) // steps)
    return {"steps": steps}
