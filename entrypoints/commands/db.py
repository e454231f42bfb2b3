"""`rqledger db upgrade`: creates or updates the ledger's schema with the migrations shipped in the package."""

from __future__ import annotations

import click

from rqledger.entrypoints.command_errors import one_line_errors


@click.group("db")
def db() -> None:
    """The ledger database's schema."""


@db.command("upgrade")
@click.option("--database-url", default=None, metavar="URL",
              help="The database to upgrade (default: DATABASE_URL, else sqlite:///rqledger.db).")
@click.option("--revision", default="head", show_default=True, help="The revision to go to.")
@one_line_errors
def upgrade_command(database_url: str | None, revision: str) -> None:
    """Applies the migrations; running it again once the schema is current changes nothing.

    The ledger's tables are named rqledger_* and its history is kept in rqledger_alembic_version, so
    it can share an app's database (and its Flask-Migrate history). RQLEDGER_DB_SCHEMA (PostgreSQL)
    puts them in a schema of their own, created if missing. A database of an older rqledger (tables
    without the prefix) is moved to the new names in place.
    """
    from rqledger.adapters.sqlalchemy import normalize_url, upgrade
    from rqledger.application.errors import AdapterError, StorageUnavailable
    from rqledger.entrypoints.settings import load_settings

    settings = load_settings()
    url = database_url or settings["database_url"]
    shown = normalize_url(url).render_as_string(hide_password=True)
    try:
        before, after = upgrade(url, revision, schema=settings["db_schema"],
                                report=lambda line: click.echo(f"{shown}: {line}"))
    except StorageUnavailable as exc:
        raise click.ClickException(f"cannot upgrade {shown}: {_one_line(exc)}; is the database running, "
                                   f"and is the URL (--database-url or DATABASE_URL) right?") from None
    except AdapterError as exc:  # an unknown revision, a permission denied, a schema that cannot be used
        raise click.ClickException(f"cannot upgrade {shown}: {_one_line(exc)}") from None
    if before == after:
        click.echo(f"{shown}: already at revision {after}; nothing to do")
    else:
        click.echo(f"{shown}: upgraded from {before or 'an empty database'} to revision {after}")


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


COMMANDS = [db]
