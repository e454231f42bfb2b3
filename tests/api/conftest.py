"""The API on the real SQL ledger (a SQLite file per test) through Flask's test client.

The queue and scheduler are the in-memory ones unless a test asks for Redis:
an InMemoryWorker runs the queued tasks in this thread when a test needs them
to end. Every response is recorded, and a test fails if any was a 500.
"""

from __future__ import annotations

import pytest

from rqledger.adapters.memory import InMemoryWorker
from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings
from rqledger.entrypoints.web import create_app
from tests.api.processes import TASK_MODULES, WebServer, service_env
from tests.services import free_port


def api_settings(database_url: str, **env: str) -> dict:
    return load_settings({"RQLEDGER_STORAGE": "sqlalchemy", "DATABASE_URL": database_url,
                          "RQLEDGER_QUEUE_BACKEND": "memory", "RQLEDGER_TASK_MODULES": TASK_MODULES, **env})


@pytest.fixture
def database_url(tmp_path):
    from rqledger.adapters.sqlalchemy import upgrade

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url)
    return url


@pytest.fixture
def make_app(database_url):
    """Builds apps on the test's ledger (keyword arguments: extra environment); none may answer a 500."""
    built = []

    def make(**env: str):
        container = build_container(api_settings(database_url, **env))
        app = create_app(container, TESTING=True)
        statuses: list[tuple[str, int]] = []

        @app.after_request
        def record(response):
            from flask import request

            statuses.append((f"{request.method} {request.full_path}", response.status_code))
            return response

        built.append((container, statuses))
        return app

    yield make
    for container, statuses in built:
        engine = container.database_engine
        if container.config.storage() == "sqlalchemy":
            engine().dispose()
        errors = [(line, status) for line, status in statuses if status == 500]
        assert not errors, f"500 answers: {errors}"


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def container(app):
    from rqledger.entrypoints.web.context import KEY

    return app.extensions[KEY]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def work(container):
    """Runs every due queued task in this thread (an in-memory worker on the same ledger)."""
    worker = InMemoryWorker(container.queue(), container.run_task(), name="test-worker",
                            paused=container.queue_pauses().paused)
    return worker.work


@pytest.fixture
def start_web(tmp_path):
    """Starts `rqledger web` processes (env from service_env); all are stopped at teardown."""
    started: list[WebServer] = []

    def start(env: dict) -> WebServer:
        server = WebServer(env, free_port(), tmp_path / f"web-{len(started)}.log")
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def service_environment(database_url, redis_url):
    """The environment of real processes sharing this test's ledger and Redis database."""
    return service_env(database_url, redis_url)
