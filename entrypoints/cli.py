"""The `rqledger` command line. Each command lives in a module of its own under entrypoints/commands/."""

from __future__ import annotations

import importlib
import pkgutil

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """rqledger: background tasks on RQ with a durable SQL ledger."""


def _register_commands() -> None:
    import entrypoints.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


_register_commands()
