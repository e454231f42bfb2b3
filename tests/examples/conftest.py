"""The Flask example (examples/flask_app) on real services: a SQLite file or a PostgreSQL database of each
test's own, a Redis database of its own, a mail outbox folder in the test's tmp_path, and real `rqledger
worker` (and `flask run`) processes started as its README says."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.api.processes import ROOT, Process
from tests.processes import wait_for
from tests.services import free_port, private_database

TASK_MODULES = "examples.flask_app.tasks"


@pytest.fixture
def database_url(request, tmp_path):
    """The app's (and the ledger's) database: a SQLite file of the test's own; `parametrize("database_url",
    ["postgresql"], indirect=True)` for a PostgreSQL database of its own."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'microblog.db'}"
    else:
        with private_database(kind) as url:
            yield url


@pytest.fixture
def outbox(tmp_path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def example_env(database_url, redis_url, outbox) -> dict:
    """What the README's two commands are given, plus quick exports and quick progress for the tests."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("RQLEDGER_", "MAIL_")) and key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, RQLEDGER_TASK_MODULES=TASK_MODULES,
               RQLEDGER_MAIL_OUTBOX=str(outbox), RQLEDGER_PROGRESS_INTERVAL="0.3",
               EXPORT_SECONDS_PER_POST="0.3", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return env


@pytest.fixture
def app(example_env, monkeypatch):
    """The example's app in this process, configured from the same environment as its worker."""
    for key in [k for k in os.environ if k.startswith(("RQLEDGER_", "MAIL_"))]:
        monkeypatch.delenv(key)
    for key in ("DATABASE_URL", "REDIS_URL", "RQLEDGER_TASK_MODULES", "RQLEDGER_PROGRESS_INTERVAL"):
        monkeypatch.setenv(key, example_env[key])
    from examples.flask_app import create_app
    from examples.flask_app.models import db

    app = create_app({"TESTING": True, "RQLEDGER_SSE_KEEPALIVE": 0.2})
    yield app
    with app.app_context():
        db.engine.dispose()
    container = app.extensions["rqledger"].container
    container.rq_connection().close()
    container.database_engine().dispose()


@pytest.fixture
def start_worker(example_env, tmp_path):
    """Starts `rqledger worker` (README: RQLEDGER_TASK_MODULES=examples.flask_app.tasks, from the repository
    root); every one is stopped at teardown."""
    started: list[Process] = []

    def start() -> Process:
        worker = Process(["worker", "--without-scheduler"], example_env, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


class FlaskRun(Process):
    """`flask --app examples.flask_app run` from the repository root, as the README says (stopped like the
    other processes: SIGTERM, then SIGKILL, to its whole process group)."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "examples.flask_app", "run", "--port", str(self.port)],
            env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 20) -> None:
        def answers():
            if self.process.poll() is not None:
                raise AssertionError(f"flask run exited with {self.process.returncode}:\n{self.output}")
            try:
                urllib.request.urlopen(self.url + "/login", timeout=1).close()
                return True
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False

        wait_for(answers, timeout, interval=0.1, what="flask run answering", details=lambda: self.output)


@pytest.fixture
def flask_run(example_env, tmp_path):
    server = FlaskRun(example_env, tmp_path / "flask.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def sign_in(app, username: str):
    """A test client signed in through the login form."""
    client = app.test_client()
    response = client.post("/login", data={"username": username})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def mails(outbox: Path) -> list[email.message.EmailMessage]:
    """The .eml files the worker wrote, oldest first."""
    if not outbox.exists():
        return []
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(outbox.glob("*.eml"))]
