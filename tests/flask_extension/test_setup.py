"""Setting the extension up: settings from app.config, a ledger per app, the app's ledger as the default one
inside its context, the tables created at start when asked."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from flask import Flask

from rqledger.flask import RQLedger, settings_from
from tests.api.processes import TASK_MODULES
from tests.api.tasks import api_echo


def make_app(tmp_path, name="host_app", **config) -> Flask:
    app = Flask(name, instance_path=str(tmp_path / f"{name}-instance"))
    app.config.update(TESTING=True, RQLEDGER_QUEUE_BACKEND="memory", RQLEDGER_TASK_MODULES=TASK_MODULES,
                      RQLEDGER_DB_UPGRADE=True, **config)
    return app


def test_app_config_comes_before_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://env-host:6379/3")
    monkeypatch.setenv("RQLEDGER_DEFAULT_TIMEOUT", "77")
    app = make_app(tmp_path, RQLEDGER_REDIS_URL="redis://config-host:6379/5", RQLEDGER_QUEUES=["default", "mail"],
                   MAIL_SERVER="smtp.example.com", RQLEDGER_DATABASE_URL="sqlite:///" + str(tmp_path / "x.db"))
    settings = settings_from(app)
    assert settings["redis_url"] == "redis://config-host:6379/5"
    assert settings["queues"] == ["default", "mail"]
    assert settings["limits"]["default_timeout"] == 77  # not in app.config: the environment's
    assert settings["mail"]["server"] == "smtp.example.com"
    assert settings["database_url"] == "sqlite:///" + str(tmp_path / "x.db")


def test_a_relative_sqlite_uri_is_the_file_flask_sqlalchemy_uses_in_the_instance_folder(tmp_path):
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///app.db")
    RQLedger(app)
    database = os.path.join(app.instance_path, "app.db")
    assert settings_from(app)["database_url"] == f"sqlite:///{database}"
    tables = sa.inspect(sa.create_engine(f"sqlite:///{database}")).get_table_names()
    assert "rqledger_tasks" in tables and "rqledger_alembic_version" in tables  # RQLEDGER_DB_UPGRADE


def test_each_app_has_its_own_ledger_and_my_task_enqueue_goes_to_the_current_apps(tmp_path):
    first = make_app(tmp_path, "first", RQLEDGER_DATABASE_URL=f"sqlite:///{tmp_path / 'first.db'}")
    second = make_app(tmp_path, "second", RQLEDGER_DATABASE_URL=f"sqlite:///{tmp_path / 'second.db'}")
    ext = RQLedger()
    ext.init_app(first)
    ext.init_app(second)
    with first.app_context():
        task = api_echo.using(owner=7).enqueue(3)
        assert ext.ledger.get(task.id).owner == "7"
    with second.app_context():
        assert ext.ledger.tasks().items == []
        other = ext.ledger.enqueue("api_echo", args=[4], owner=8)
    with first.app_context():
        assert [t.id for t in ext.ledger.tasks().items] == [task.id]
    assert other.id == task.id == 1  # two databases, two first rows
    for app in (first, second):
        app.extensions["rqledger"].container.database_engine().dispose()


def test_outside_any_app_the_extension_says_what_is_missing(tmp_path):
    ext = RQLedger()
    with pytest.raises(RuntimeError, match="inside an app context"):
        ext.ledger
    app = make_app(tmp_path, RQLEDGER_DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}")
    ext.init_app(app)
    with pytest.raises(RuntimeError, match="already set up"):
        ext.init_app(app)
    app.extensions["rqledger"].container.database_engine().dispose()


def test_the_prefix_may_be_the_root_or_nested(tmp_path):
    app = make_app(tmp_path, RQLEDGER_DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}")
    RQLedger(app, url_prefix="admin/jobs/")
    client = app.test_client()
    assert client.get("/admin/jobs/api/task-types").status_code == 200
    assert 'data-base="/admin/jobs"' in client.get("/admin/jobs/").get_data(as_text=True)
    app.extensions["rqledger"].container.database_engine().dispose()


def test_the_host_apps_own_routes_and_errors_are_left_alone(tmp_path):
    app = make_app(tmp_path, RQLEDGER_DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}", MAX_CONTENT_LENGTH=10 * 2**20)

    @app.post("/upload")
    def upload():
        from flask import request

        return {"size": len(request.get_data())}

    @app.get("/boom")
    def boom():
        raise KeyError("the host app's own bug")

    RQLedger(app, url_prefix="/tasks")
    app.config["TESTING"] = False  # let the host app answer its own 500 (rqledger's handlers must not)
    client = app.test_client()
    assert client.post("/upload", data=b"x" * (2 * 2**20)).get_json() == {"size": 2 * 2**20}  # its 10 MiB limit
    big = client.post("/tasks/api/tasks", data=b"x" * (2 * 2**20), content_type="application/json")
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "payload_too_large"  # rqledger's 1 MiB
    answer = client.get("/boom")
    assert answer.status_code == 500 and not answer.is_json  # Flask's own page, not rqledger's JSON
    assert not client.get("/nothing").is_json
    app.extensions["rqledger"].container.database_engine().dispose()


def test_inside_a_host_app_any_host_name_is_answered_unless_allowed_hosts_says_otherwise(tmp_path):
    # the host app is reached by names only its deployment knows; its cookies never go to a rebound name
    app = make_app(tmp_path, RQLEDGER_DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}")
    RQLedger(app)
    assert app.test_client().get("/tasks/api/task-types", headers={"Host": "microblog.example.com"}).status_code == 200
    app.extensions["rqledger"].container.database_engine().dispose()
    strict = make_app(tmp_path, "strict", RQLEDGER_DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}",
                      RQLEDGER_ALLOWED_HOSTS="tasks.example.com")
    RQLedger(strict)
    client = strict.test_client()
    assert client.get("/tasks/api/task-types", headers={"Host": "microblog.example.com"}).status_code == 400
    assert client.get("/tasks/api/task-types", headers={"Host": "tasks.example.com"}).status_code == 200
    strict.extensions["rqledger"].container.database_engine().dispose()
