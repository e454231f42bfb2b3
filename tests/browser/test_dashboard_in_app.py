"""The dashboard mounted in a host Flask app under /tasks, behind the app's own login, in headless Chromium:
every address follows the prefix, the page uses the app's session (no token asked), a user sees only their
own tasks, and a task enqueued through the form moves live and finishes (a real worker on real Redis)."""

from __future__ import annotations

import json
import threading

import pytest
from flask import Flask, redirect, request, session
from selenium.webdriver.common.by import By
from werkzeug.serving import make_server

from rqledger.entrypoints.container import build_container
from rqledger.entrypoints.settings import load_settings
from rqledger.flask import RQLedger
from tests.api.processes import Process, service_env
from tests.browser.test_dashboard import enqueue_through_the_form, progress_until, text_of, wait

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture
def host_app(database_url, redis_url, tmp_path):
    """A host app with a login of its own (/login?user=N sets its session), rqledger under /tasks, served on
    a real port in this process; a real `rqledger worker` beside it."""
    env = service_env(database_url, redis_url)
    app = Flask("host_app")
    app.config.update(SECRET_KEY="test", RQLEDGER_SSE_KEEPALIVE=1.0)
    ext = RQLedger()
    ext.init_app(app, url_prefix="/tasks", container=build_container(load_settings(env)))

    @ext.owner_loader
    def owner():
        return session.get("user_id")

    @app.get("/login")
    def login():
        session["user_id"] = int(request.args["user"])
        return redirect("/tasks/")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    worker = Process(["worker", "--without-scheduler"], env, tmp_path / "worker.log")
    yield f"http://127.0.0.1:{server.server_port}", ext, app
    worker.stop()
    server.shutdown()
    app.extensions["rqledger"].container.database_engine().dispose()


def test_the_dashboard_under_the_prefix_runs_on_the_apps_session_and_shows_only_the_users_tasks(browser, host_app):
    url, ext, app = host_app
    with app.app_context():
        theirs = ext.ledger.enqueue("api_echo", kwargs={"count": 424242}, owner=8)
    browser.get(url + "/login?user=7")
    assert browser.current_url == url + "/tasks/"
    wait(browser).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class").split())
    assert not browser.find_element(By.ID, "token-dialog").get_attribute("open")  # the app's session, no token
    assert "owner 7" in browser.find_element(By.ID, "signed-in").text

    task_id = enqueue_through_the_form(browser, "api_steps", steps="6", pause="0.4")
    seen = progress_until(browser, task_id, lambda d: d.find_elements(
        By.CSS_SELECTOR, f'#section-finished [data-task-row="{task_id}"]'))
    assert [v for v in seen if 0 < v < 100], f"the bar did not move: {seen}"
    assert '"steps": 6' in text_of(browser, f'#section-finished [data-task-row="{task_id}"]')
    assert "424242" not in browser.find_element(By.TAG_NAME, "main").text  # another owner's task
    with app.app_context():
        assert ext.ledger.get(task_id).owner == "7" and ext.ledger.get(theirs.id).owner == "8"
    browser.get(url + "/tasks/api/tasks")  # the API, on the same session
    assert [t["id"] for t in json.loads(browser.find_element(By.TAG_NAME, "body").text)["items"]] == [task_id]
