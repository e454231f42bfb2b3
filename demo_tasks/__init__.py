"""The built-in demo tasks, registered by default (RQLEDGER_TASK_MODULES overrides)."""

import time

from rqledger import set_progress, task


@task(description="Sleeps for the given seconds, reporting progress every second")
def example(seconds: int) -> dict:
    for i in range(seconds):
        time.sleep(1)
        set_progress(100 * (i + 1) // seconds)
    return {"slept": seconds}
