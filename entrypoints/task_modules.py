"""Finding and importing an app's task modules, the way `flask`, `rq worker` and `celery` find an app's code.

Every `rqledger` command puts the current directory at the front of sys.path,
after the folders of `--path` and RQLEDGER_PATH; a module that cannot be
imported stops the command with one line that says which module, where it was
looked for and why, never a traceback.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import sysconfig
import traceback
from typing import Iterable

# what the built-in demo imports beyond the base install, by import name -> the distribution that brings it
DEMO_PACKAGES = {"PIL": "pillow", "feedparser": "feedparser", "jinja2": "jinja2"}
DEMO_MODULE = "rqledger.demo"


class TaskModuleError(Exception):
    """A task module could not be imported; the message is one line: the module, the folders searched, why."""

    def __init__(self, module: str, message: str):
        super().__init__(message)
        self.module = module


def put_first_on_sys_path(folders: Iterable[str]) -> list[str]:
    """Puts `folders` (made absolute) at the front of sys.path, in their order, each once; returns them."""
    absolute = list(dict.fromkeys(os.path.abspath(folder) for folder in folders))
    rest = [entry for entry in sys.path if (os.path.abspath(entry) if entry else None) not in absolute]
    sys.path[:] = [*absolute, *rest]
    return absolute


def import_task_modules(modules: Iterable[str], folders: Iterable[str] = ()) -> None:
    """Imports each module (their @task functions register themselves), `folders` first on sys.path."""
    on_path = {os.path.abspath(entry) for entry in sys.path if entry}
    # the CLI already put its folders first; this adds those it could not know (a dev session's, a WSGI server's)
    sys.path[:0] = [folder for folder in dict.fromkeys(map(os.path.abspath, folders)) if folder not in on_path]
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # whatever the module's own code raised while it was imported
            raise TaskModuleError(module, explain(module, exc)) from exc


def explain(module: str, exc: BaseException) -> str:
    """One line on why `module` could not be imported."""
    searched = searched_folders()
    where = f"searched {', '.join(searched)} and the installed packages" if searched else \
        "searched the installed packages"
    if isinstance(exc, ModuleNotFoundError) and exc.name and _within(module, DEMO_MODULE) \
            and exc.name.partition(".")[0] in DEMO_PACKAGES:
        return (f"the demo tasks ({module}) need {DEMO_PACKAGES[exc.name.partition('.')[0]]}, which is not installed: "
                f"pip install 'rqledger[demo]'")
    if isinstance(exc, ModuleNotFoundError) and exc.name and _within(module, exc.name):
        return (f"cannot import task module {module!r}: No module named {exc.name!r} ({where}; "
                f"--path DIR or RQLEDGER_PATH add folders)")
    if isinstance(exc, SyntaxError):
        return f"cannot import task module {module!r}: SyntaxError: {exc.msg} at {exc.filename}:{exc.lineno} ({where})"
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"cannot import task module {module!r}: {type(exc).__name__}: {first_line}{_origin(exc)} ({where})"


def searched_folders() -> list[str]:
    """The folders on sys.path that are not Python's own or its installed packages: where an app's code is found."""
    folders = []
    for entry in sys.path:
        folder = os.path.abspath(entry or os.curdir)
        if not _installed(entry) and os.path.isdir(folder) and folder not in folders:
            folders.append(folder)
    return folders


def announce(log: logging.Logger, modules: list[str], registry) -> None:
    """Says in one log line what this process was given to run: a warning when it was given nothing."""
    log.log(logging.INFO if modules else logging.WARNING, describe(modules, registry))


def describe(modules: list[str], registry) -> str:
    """What a process was given to run, in one line."""
    if not modules:
        return ("no task modules (RQLEDGER_TASK_MODULES is not set, e.g. to app.tasks): "
                "this process knows no task type and runs none")
    names = [task_type.name for task_type in registry]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"task modules {', '.join(modules)}: {len(names)} task types ({shown or 'none'})"


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _origin(exc: BaseException) -> str:
    """` at file:line` of the innermost frame of the module's own code (not importlib's)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen")]
    return f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def _installed(entry: str) -> bool:
    """An entry of sys.path that is Python's own (stdlib, zips, scripts) or its installed packages."""
    if not entry:
        return False
    folder = os.path.abspath(entry)
    if not os.path.isdir(folder):
        return True  # a zip file, or a path hook such as an editable install's
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if paths.get(key)}
    roots |= {p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")}
    return folder == paths.get("scripts") or any(folder == root or folder.startswith(root + os.sep)
                                                 for root in map(os.path.abspath, roots))
