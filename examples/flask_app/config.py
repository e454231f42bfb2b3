"""Where the example's app and its worker find the database, Redis and the mail outbox.

Both processes read the same variables, so an app and a `rqledger worker` started from the same folder
share one database: DATABASE_URL, else `rqledger.db` in the current folder (the file `rqledger worker`
uses when DATABASE_URL is unset).
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATABASE = "sqlite:///rqledger.db"
# the drivers rqledger installs: a plain postgresql:// or mysql:// URL means them (as for `rqledger worker`)
DRIVERS = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}


def database_url() -> str:
    """DATABASE_URL as SQLAlchemy takes it: a relative SQLite path made absolute against the current folder
    (Flask-SQLAlchemy would otherwise look for it in the instance folder, where the worker would not)."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE
    scheme, separator, rest = url.partition("://")
    if scheme in DRIVERS:
        return f"{DRIVERS[scheme]}://{rest}"
    if scheme == "sqlite" and rest.startswith("/") and not rest.startswith("//") and rest != "/:memory:":
        return f"sqlite:///{Path(rest[1:]).resolve()}"
    return url


def default_outbox() -> Path:
    """Where the worker files the export's mail when neither MAIL_SERVER nor RQLEDGER_MAIL_OUTBOX is set."""
    return Path("outbox").resolve()


def seconds_per_post() -> float:
    """EXPORT_SECONDS_PER_POST (default 1): the export's pause after each post, so its progress can be watched."""
    return float(os.environ.get("EXPORT_SECONDS_PER_POST", "1"))
