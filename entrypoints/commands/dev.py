"""`rqledger dev`: web, workers and scheduler in one command, on an embedded Redis and SQLite."""

from __future__ import annotations

import click

from entrypoints.command_errors import one_line_errors


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the dashboard listens on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Its port.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16), help="RQ worker processes.")
@click.option("--seed/--no-seed", default=True, show_default=True,
              help="Enqueue a few demo tasks and a schedule when the ledger is empty.")
@click.option("--grace", default=10.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds a worker may take to finish its task on Ctrl-C (a second Ctrl-C skips the wait).")
@one_line_errors
def dev(host: str, port: int, workers: int, seed: bool, grace: float) -> None:
    """Run the whole service locally: nothing to install but this package.

    Starts an embedded Redis (unless REDIS_URL is set), a SQLite ledger in the current directory (unless
    DATABASE_URL is set, migrated either way), then `rqledger web`, workers and `rqledger scheduler`.
    Without MAIL_SERVER, mails go to ./outbox. Ctrl-C stops everything.
    """
    from entrypoints.dev import DevOptions, run_dev

    code = run_dev(DevOptions(host=host, port=port, workers=workers, seed=seed, grace=grace))
    raise click.exceptions.Exit(code)


COMMANDS = [dev]
