"""`set_progress` for task authors: reaches whatever runs the task through a context variable."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from rqledger.application.ports import ProgressSink
from rqledger.domain.task import clamp_progress

_sink: ContextVar[ProgressSink | None] = ContextVar("rqledger_progress_sink", default=None)


def set_progress(percent: int | float) -> None:
    """Reports how far the running task is, 0-100. Outside a task it does nothing, so plain calls work."""
    value = clamp_progress(percent)
    sink = _sink.get()
    if sink is not None:
        sink.report(value)


@contextmanager
def reporting_to(sink: ProgressSink) -> Iterator[None]:
    """Routes set_progress calls made inside the block to `sink`."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)
