"""`rqledger db upgrade`: creates or updates the ledger's schema with the migrations shipped in the package."""

from __future__ import annotations

import click


@click.group("db")
def db() -> None:
    """The ledger database's schema."""


@db.command("upgrade")
@click.option("--database-url", default=None, metavar="URL",
              help="The database to upgrade (default: DATABASE_URL, else sqlite:///rqledger.db).")
@click.option("--revision", default="head", show_default=True, help="The revision to go to.")
def upgrade_command(database_url: str | None, revision: str) -> None:
    """Applies the migrations; running it again once the schema is current changes nothing."""
    from adapters.sqlalchemy import normalize_url, upgrade
    from application.errors import StorageUnavailable
    from entrypoints.settings import load_settings

    url = database_url or load_settings()["database_url"]
    shown = normalize_url(url).render_as_string(hide_password=True)
    try:
        before, after = upgrade(url, revision)
    except StorageUnavailable as exc:
        raise click.ClickException(f"cannot upgrade {shown}: {exc}") from exc
    if before == after:
        click.echo(f"{shown}: already at revision {after}; nothing to do")
    else:
        click.echo(f"{shown}: upgraded from {before or 'an empty database'} to revision {after}")


COMMANDS = [db]
