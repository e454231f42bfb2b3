"""The `rqledger` command line. Each command lives in a module of its own under entrypoints/commands/."""

from __future__ import annotations

import importlib
import os
import pkgutil

import click

from rqledger.entrypoints.task_modules import TaskModuleError, put_first_on_sys_path


class RqledgerGroup(click.Group):
    """The commands' group: a task module that cannot be imported is one line and exit 1, in every command."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TaskModuleError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=RqledgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--path", "folders", multiple=True, metavar="DIR", type=click.Path(exists=True, file_okay=False),
              help="A folder to import task modules from, before the current directory (repeatable). "
                   "RQLEDGER_PATH adds more, separated by os.pathsep.")
def main(folders: tuple[str, ...]) -> None:
    """rqledger: background tasks on RQ with a durable SQL ledger.

    Task modules (RQLEDGER_TASK_MODULES) are imported from the folders of --path, then those of
    RQLEDGER_PATH, then the current directory, then the installed packages.
    """
    from rqledger.entrypoints.settings import split_path

    given = list(dict.fromkeys(os.path.abspath(f) for f in [*folders, *split_path(os.environ.get("RQLEDGER_PATH"))]))
    put_first_on_sys_path([*given, os.getcwd()])
    if given:
        # in the environment too: `rqledger dev`'s children and a worker's work-horses search the same folders
        os.environ["RQLEDGER_PATH"] = os.pathsep.join(given)


def _register_commands() -> None:
    import rqledger.entrypoints.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


_register_commands()
