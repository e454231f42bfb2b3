"""Bare RQ job functions: what a plain RQ user would enqueue, to compare rqledger against."""

from __future__ import annotations

import time


def noop() -> None:
    """The trivial job: all of its cost is the queue's."""
    return None


def progress_loop(times: int) -> dict:
    """The loop of benchmarks.tasks.report_progress without any reporting."""
    began = time.perf_counter()
    percent = 0
    for i in range(times):
        percent = (i + 1) * 100 // times
    return {"loop_seconds": time.perf_counter() - began, "last": percent}
