from tests.api.conftest import database_url  # noqa: F401  (a SQLite ledger file per test, upgraded)
