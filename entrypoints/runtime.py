"""The container of a worker process, built once from the environment, for RQ job entry points.

`rqledger worker` installs its own container before it starts working; a job
that runs in a process where none was installed builds one from the environment.
"""

from __future__ import annotations

import threading

from rqledger.entrypoints.container import Container, build_container

_container: Container | None = None
_lock = threading.Lock()


def install(container: Container) -> None:
    global _container
    _container = container


def current() -> Container:
    global _container
    with _lock:
        if _container is None:
            _container = build_container()
        return _container


def installed() -> Container | None:
    """The container this process installed (a worker's), or None: nothing is built."""
    return _container


def reset() -> None:
    global _container
    _container = None
