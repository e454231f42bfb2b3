"""Fixtures of the security suite.

The worker tests reuse the RQ adapter's fixtures (a SQL ledger on a SQLite file,
a private Redis database, real `rqledger worker` processes killed at teardown).
The HTTP tests build the app on a SQLite ledger of their own with the in-memory
queue, through Flask's test client; no answer may be a 500.
"""

from __future__ import annotations

import pytest

from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings
from rqledger.entrypoints.web import create_app
from tests.integration.rq.conftest import (database_url, ledger, ledger_env, memory_container,  # noqa: F401
                                          start_worker)  # (fixtures)

TASK_MODULES = "rqledger.demo,tests.api.tasks"  # api_echo(count: int, ratio=1.0, flag=False, label="x", items=None)


@pytest.fixture
def api_ledger_url(tmp_path):
    from rqledger.adapters.sqlalchemy import upgrade

    url = f"sqlite:///{tmp_path / 'api-ledger.db'}"
    upgrade(url)
    return url


@pytest.fixture
def make_api(api_ledger_url):
    """make_api(**environment) -> (app, container) on the test's ledger; fails the test on any 5xx answer
    (but a 503, with `unavailable_ok=True`: a dependency that is down on purpose)."""
    built = []

    def make(unavailable_ok: bool = False, **env: str):
        settings = load_settings({"RQLEDGER_STORAGE": "sqlalchemy", "DATABASE_URL": api_ledger_url,
                                  "RQLEDGER_QUEUE_BACKEND": "memory", "RQLEDGER_TASK_MODULES": TASK_MODULES, **env})
        container = build_container(settings)
        app = create_app(container, TESTING=True)
        answers: list[tuple[str, int]] = []

        @app.after_request
        def record(response):
            from flask import request

            answers.append((f"{request.method} {request.full_path}", response.status_code))
            return response

        built.append((container, answers, {503} if unavailable_ok else set()))
        return app, container

    yield make
    for container, answers, allowed in built:
        container.database_engine().dispose()
        server_errors = [(line, status) for line, status in answers if status >= 500 and status not in allowed]
        assert not server_errors, f"5xx answers: {server_errors}"


@pytest.fixture
def api(make_api):
    """(test client, container) of an open app (no token) with the default limits."""
    app, container = make_api()
    return app.test_client(), container
