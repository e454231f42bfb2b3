"""Fixtures of the security suite.

The worker tests reuse the RQ adapter's fixtures (a SQL ledger on a SQLite file,
a private Redis database, real `rqledger worker` processes killed at teardown).
"""

from tests.integration.rq.conftest import database_url, ledger, ledger_env, start_worker  # noqa: F401 (fixtures)
