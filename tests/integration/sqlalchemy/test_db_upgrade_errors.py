"""A `rqledger db upgrade` that cannot do its job says so in one line, naming the problem and what to do; exit 1."""

import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from rqledger.adapters.sqlalchemy import upgrade
from rqledger.adapters.sqlalchemy.tables import VERSION_TABLE
from rqledger.entrypoints.cli import main
from tests.services import free_port

RQLEDGER = Path(sys.executable).with_name("rqledger")
NEWER_REVISION = "9f3b2c1d0e4a"


@pytest.fixture
def db_upgrade(tmp_path, monkeypatch):
    """Runs `rqledger db upgrade --database-url URL [more]` in-process; returns the one line it failed with."""
    monkeypatch.chdir(tmp_path)  # no `rqledger dev` session here
    monkeypatch.delenv("RQLEDGER_DB_SCHEMA", raising=False)

    def run(url: str, *more: str, schema: str | None = None) -> str:
        if schema:
            monkeypatch.setenv("RQLEDGER_DB_SCHEMA", schema)
        result = CliRunner().invoke(main, ["db", "upgrade", "--database-url", url, *more])
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        return lines[0]

    return run


def test_an_unreachable_database_is_one_line_saying_to_check_it(db_upgrade):
    line = db_upgrade(f"postgresql://nobody:secret@127.0.0.1:{free_port()}/nothing")
    assert line.startswith("Error: cannot upgrade postgresql+psycopg://nobody:***@127.0.0.1:")
    assert line.endswith("is the database running, and is the URL (--database-url or DATABASE_URL) right?")
    assert "secret" not in line


def test_a_database_of_a_newer_rqledger_is_one_line_saying_to_upgrade_rqledger(kind, empty_url, db_upgrade):
    of_a_newer_version(empty_url)
    line = db_upgrade(empty_url)
    assert line.endswith(f"the ledger in this database is at revision {NEWER_REVISION}, which this rqledger does "
                         f"not know (a newer rqledger migrated it): upgrade rqledger itself (pip install -U "
                         f"rqledger) to use this database")


def test_a_database_of_a_newer_rqledger_fails_the_real_command_without_a_traceback(empty_url, tmp_path):
    of_a_newer_version(empty_url)
    result = subprocess.run([str(RQLEDGER), "db", "upgrade", "--database-url", empty_url], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "which this rqledger does not know" in result.stderr


def test_a_revision_that_is_not_ours_is_one_line(kind, empty_url, db_upgrade):
    line = db_upgrade(empty_url, "--revision", "nope")
    assert line.startswith("Error: cannot upgrade") and "cannot upgrade to revision 'nope'" in line


def test_a_ledger_schema_on_sqlite_is_one_line_saying_to_unset_it(tmp_path, db_upgrade):
    line = db_upgrade(f"sqlite:///{tmp_path / 'ledger.db'}", schema="ledger")
    assert line.endswith("RQLEDGER_DB_SCHEMA=ledger works on PostgreSQL only, not on sqlite: unset it "
                         "(the ledger's tables are prefixed rqledger_ instead)")


def test_a_schema_name_postgresql_would_fold_is_one_line(postgres_url, db_upgrade):
    line = db_upgrade(postgres_url, schema="Ledger")
    assert "RQLEDGER_DB_SCHEMA='Ledger' is not a schema name rqledger takes: use lower-case letters" in line


@pytest.mark.integration
def test_a_postgresql_user_who_may_not_create_tables_gets_one_line_saying_what_to_do(postgres_url, db_upgrade):
    with postgresql_user_without_create(postgres_url) as url:
        line = db_upgrade(url)
    assert "the database refused (permission denied for schema public)" in line
    assert line.endswith("run `rqledger db upgrade` as a user that may create tables (and the ledger's schema, "
                         "if one is set)")


@pytest.mark.integration
def test_a_postgresql_user_who_may_not_create_the_ledger_schema_gets_one_line(postgres_url, db_upgrade):
    with postgresql_user_without_create(postgres_url) as url:
        line = db_upgrade(url, schema="ledger")
    assert "the database refused (permission denied for database" in line


@pytest.mark.integration
def test_a_mariadb_user_who_may_only_read_gets_one_line_saying_what_to_do(mysql_url, db_upgrade):
    with mariadb_user_who_may_only_read(mysql_url) as url:
        line = db_upgrade(url)
    assert "the database refused (" in line and "CREATE command denied" in line
    assert line.endswith("run `rqledger db upgrade` as a user that may create tables (and the ledger's schema, "
                         "if one is set)")


# -- helpers ----------------------------------------------------------------------------------------------------


def of_a_newer_version(url: str) -> None:
    """A ledger whose history names a revision a later rqledger added."""
    upgrade(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = :r"), {"r": NEWER_REVISION})
    engine.dispose()


def with_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, f"{user}@{parts.hostname}:{parts.port}", parts.path, parts.query, ""))


class postgresql_user_without_create:
    """A login role of this test's own, with PostgreSQL 15's defaults: it may not create in `public`."""

    def __init__(self, url: str):
        self.admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        self.name = f"rqledger_t_{uuid.uuid4().hex[:12]}"
        self.url = with_user(url, self.name)

    def __enter__(self) -> str:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE ROLE {self.name} LOGIN")
        return self.url

    def __exit__(self, *exc) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"DROP ROLE {self.name}")
        self.admin.dispose()


class mariadb_user_who_may_only_read:
    """A user of this test's own with SELECT on the test's database, nothing more."""

    def __init__(self, url: str):
        self.admin = sa.create_engine(url)
        self.name = f"rqledger_t_{uuid.uuid4().hex[:12]}"
        self.database = urlsplit(url).path.lstrip("/")
        self.url = with_user(url, self.name)

    def __enter__(self) -> str:
        with self.admin.begin() as connection:
            connection.execute(sa.text(f"CREATE USER '{self.name}'@'%'"))
            connection.execute(sa.text(f"GRANT SELECT ON {self.database}.* TO '{self.name}'@'%'"))
        return self.url

    def __exit__(self, *exc) -> None:
        with self.admin.begin() as connection:
            connection.execute(sa.text(f"DROP USER '{self.name}'@'%'"))
        self.admin.dispose()
