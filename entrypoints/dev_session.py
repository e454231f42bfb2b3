"""How commands in another terminal find a running `rqledger dev`: a small file in its directory.

`rqledger dev` picks a free port for its embedded Redis, so a plain
`rqledger enqueue example 3 --wait` started in the same directory could not
know it. While dev runs, `.rqledger-dev.json` holds its REDIS_URL,
DATABASE_URL, task modules and RQLEDGER_PATH; settings use them when the
environment does not say otherwise and the dev process is still alive.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FILE_NAME = ".rqledger-dev.json"


def write_session(folder: Path, redis_url: str, database_url: str, dashboard: str,
                  task_modules: list[str] = (), folders: list[str] = ()) -> Path:
    """Records a running dev: its services, and the task modules its workers run with the folders they come from."""
    path = folder / FILE_NAME
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps({"pid": os.getpid(), "redis_url": redis_url, "database_url": database_url,
                                   "dashboard": dashboard, "task_modules": list(task_modules), "path": list(folders)},
                                  indent=2))
    os.replace(partial, path)
    return path


def remove_session(folder: Path) -> None:
    path = folder / FILE_NAME
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():  # never another dev's file
            path.unlink()
    except (OSError, ValueError):
        pass


def read_session(folder: Path | None = None) -> dict | None:
    """The running dev session of `folder` (default: the current directory), or None."""
    path = (folder or Path.cwd()) / FILE_NAME
    try:
        session = json.loads(path.read_text())
        pid = int(session["pid"])
        os.kill(pid, 0)  # a file left by a dev that was killed says nothing any more
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return session
