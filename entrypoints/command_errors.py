"""How commands fail: one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import logging

import click

from application.errors import AdapterError
from domain.errors import DomainError

log = logging.getLogger("rqledger.cli")


def one_line_errors(command):
    """Wraps a click callback: known errors become `Error: <message>` (exit 1), Ctrl-C exits 130."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (DomainError, AdapterError) as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            raise click.exceptions.Exit(130) from None
        except Exception as exc:  # a bug or a broken setup: still one line, the details go to the log
            log.debug("command failed", exc_info=True)
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from None

    return wrapper
