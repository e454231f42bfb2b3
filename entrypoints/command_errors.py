"""How commands fail: one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import logging

import click

from rqledger.application.errors import AdapterError
from rqledger.domain.errors import DomainError
from rqledger.entrypoints.task_modules import TaskModuleError

log = logging.getLogger("rqledger.cli")


def one_line_errors(command):
    """Wraps a click callback: known errors become `Error: <message>` (exit 1), Ctrl-C exits 130."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (DomainError, AdapterError, TaskModuleError) as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            raise click.exceptions.Exit(130) from None
        except Exception as exc:  # a bug or a broken setup: still one line, the details go to the log
            log.debug("command failed", exc_info=True)
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from None

    return wrapper


def each_id(entity: str, ids, act) -> None:
    """Runs `act(id)` for every id in turn (once each): its line on stdout, or `Error: <message naming the id>`
    on stderr; one id's error never stops the others. Exit 1 when any failed, as a single id's error would."""
    failed = 0
    for one in dict.fromkeys(ids):
        try:
            line = act(one)
        except (DomainError, AdapterError) as exc:
            failed += 1
            message = " ".join(str(exc).split())
            if f"{entity} {one}" not in message:  # e.g. the database is down: say which id it stopped
                message = f"{entity} {one}: {message}"
            click.echo(f"Error: {message}", err=True)
        else:
            click.echo(line)
    if failed:
        raise click.exceptions.Exit(1)
