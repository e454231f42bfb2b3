"""rqledger's side of the benchmarks (RQLEDGER_TASK_MODULES=benchmarks.tasks)."""

from __future__ import annotations

import time

from rqledger import set_progress, task


@task(description="does nothing: all of its cost is rqledger's and RQ's")
def noop() -> None:
    return None


@task(description="calls set_progress `times` times in a tight loop")
def report_progress(times: int) -> dict:
    began = time.perf_counter()
    percent = 0
    for i in range(times):
        percent = (i + 1) * 100 // times
        set_progress(percent)
    return {"loop_seconds": time.perf_counter() - began, "last": percent}
