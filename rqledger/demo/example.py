"""example: sleeps, reporting progress every second. The first task to try."""

import time

from rqledger import set_progress, task

MAX_SECONDS = 3600


@task(description="Sleeps for the given seconds, reporting progress every second")
def example(seconds: int) -> dict:
    if not 0 <= seconds <= MAX_SECONDS:
        raise ValueError(f"'seconds' must be between 0 and {MAX_SECONDS}, got {seconds}")
    for i in range(seconds):
        time.sleep(1)
        set_progress(100 * (i + 1) // seconds)
    return {"slept": seconds}
