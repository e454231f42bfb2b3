"""One task's page in the dashboard (/tasks/<id>): its call, timings, result, log and attempts, its actions, and
"no such task" for an id that does not exist or that another owner holds."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def ended(client, work):
    done = client.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 4, "label": "<b>hi</b>"},
                                           "owner": "ana", "retry": {"max": 2, "interval": 5}}).get_json()
    failed = client.post("/api/tasks", json={"name": "api_fail", "kwargs": {"message": "no <disk>"}}).get_json()
    work()
    return done["id"], failed["id"]


def facts(html: str) -> dict:
    return dict(re.findall(r"<dt>(\w+)</dt><dd[^>]*>([^<]*)</dd>", html))


def test_a_finished_tasks_page_shows_its_call_timings_result_and_attempt(client, ended):
    done, _ = ended
    page = client.get(f"/tasks/{done}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert f"Task {done}" in html and 'class="badge finished"' in html
    shown = facts(html)
    assert shown["Owner"] == "ana" and shown["Queue"] == "default" and shown["Attempts"] == "1"
    assert shown["Retry"] == "up to 2 more, 5 s apart"
    assert shown["Waited"] != "–" and shown["Ran"] != "–" and shown["Worker"] == "test-worker"
    assert re.search(r'<pre id="result-\d+">', html) and "&#34;count&#34;: 4" in html  # the result, as JSON
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html  # escaped
    assert 'data-action="delete"' in html and 'data-action="cancel"' not in html
    assert '<li class="attempt finished">' in html


def test_a_failed_tasks_page_shows_the_error_and_offers_retry(client, ended):
    _, failed = ended
    html = client.get(f"/tasks/{failed}").get_data(as_text=True)
    assert 'class="badge failed"' in html and "no &lt;disk&gt;" in html and "no <disk>" not in html
    assert 'data-action="retry"' in html and '<li class="attempt failed">' in html
    assert "<details class=\"block\" open>\n    <summary>Log</summary>" in html  # a failure's log is open


def test_a_queued_tasks_page_offers_cancel_and_follows_its_progress(client):
    queued = client.post("/api/tasks", json={"name": "api_steps", "kwargs": {"steps": 3}}).get_json()["id"]
    html = client.get(f"/tasks/{queued}").get_data(as_text=True)
    assert 'data-action="cancel"' in html and f'data-progress-for="{queued}"' in html
    assert f'data-path="/dashboard/sections/task/{queued}"' in html
    assert client.get(f"/dashboard/sections/task/{queued}").status_code == 200


def test_an_unknown_task_is_a_404_page_and_its_section_a_404(client):
    page = client.get("/tasks/424242")
    assert page.status_code == 404 and "There is no task 424242." in page.get_data(as_text=True)
    assert client.get("/dashboard/sections/task/424242").status_code == 404


def test_the_overviews_rows_link_to_their_tasks_pages(client, ended):
    done, failed = ended
    html = client.get("/").get_data(as_text=True)
    assert f'href="/tasks/{done}"' in html and f'href="/tasks/{failed}"' in html


def test_with_a_token_the_page_holds_no_data_and_its_section_needs_the_token(make_app, work):
    app = make_app(RQLEDGER_API_TOKEN="t0ken-0123456789")
    client = app.test_client()
    bearer = {"Authorization": "Bearer t0ken-0123456789"}
    task_id = client.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 77777}},
                          headers=bearer).get_json()["id"]
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and "77777" not in page.get_data(as_text=True)
    assert client.get(f"/dashboard/sections/task/{task_id}").status_code == 401
    assert "77777" in client.get(f"/dashboard/sections/task/{task_id}", headers=bearer).get_data(as_text=True)
