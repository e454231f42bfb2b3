"""Harmless but observable callables: a forged job that ran (or was unpickled) leaves a file behind."""

from __future__ import annotations

from pathlib import Path


def touch(path: str, *_ignored) -> str:
    """Writes `path`: proof that a job naming this function was executed."""
    Path(path).write_text("executed")
    return path


def touch_from_callback(job, *_ignored) -> None:
    """An RQ callback (success, failure or stopped): writes the path in job.meta["canary"]."""
    Path(job.meta["canary"]).write_text("callback ran")


class TouchWhenUnpickled:
    """A pickled instance writes `path` the moment it is unpickled, before any job function is called."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return touch, (self.path,)
