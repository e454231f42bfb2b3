"""What every ledger command starts from: the container (a caller's, or one built from the environment) and a console."""

from __future__ import annotations

import json

import click
from rich.console import Console


def container():
    """The container a caller brought as the click context object (tests), else one from DATABASE_URL/REDIS_URL."""
    from rqledger.entrypoints.container import build_container

    given = click.get_current_context().find_root().obj
    return given if given is not None else build_container()


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def echo_json(data) -> None:
    """Machine-readable output: plain JSON on stdout, never wrapped or coloured, whatever the terminal."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
