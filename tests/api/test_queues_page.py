"""The dashboard's /queues page and what the other pages show of priorities and pauses (Flask test client)."""

from __future__ import annotations


def test_the_queues_page_shows_each_queue_its_state_and_its_button(client):
    client.post("/api/tasks", json={"name": "api_echo", "args": [1], "priority": "high"})
    client.post("/api/queues/default/pause", json={"reason": "nightly <import>"})

    page = client.get("/queues")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-queue-row="default" data-paused="true"' in html
    assert 'data-action="resume-queue" data-id="default"' in html
    assert "nightly &lt;import&gt;" in html and "nightly <import>" not in html
    assert 'id="nav-queues" aria-current="page"' in html

    client.post("/api/queues/default/resume")
    section = client.get("/dashboard/sections/queues").get_data(as_text=True)
    assert 'data-queue-row="default" data-paused="false"' in section
    assert 'data-action="pause-queue" data-id="default"' in section


def test_a_queued_task_of_a_paused_queue_says_why_on_its_page_and_in_the_lists(client):
    task_id = client.post("/api/tasks", json={"name": "api_echo", "args": [1], "priority": "low"}).get_json()["id"]
    client.post("/api/queues/default/pause", json={"by": "ops", "reason": "deploy"})

    task_page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f'id="waiting-{task_id}"' in task_page and "by ops: deploy)" in task_page
    assert 'class="badge priority low"' in task_page
    for path in ("/list", "/"):
        html = client.get(path).get_data(as_text=True)
        assert 'class="badge paused"' in html, path

    client.post("/api/queues/default/resume")
    assert f'id="waiting-{task_id}"' not in client.get(f"/tasks/{task_id}").get_data(as_text=True)


def test_an_owner_signed_in_through_a_token_is_told_queues_are_an_admins(make_app):
    from tests.api.conftest import api_settings  # noqa: F401 (the fixture builds on it)

    app = make_app(RQLEDGER_API_TOKENS="ana-0123456789abcdef:ana")
    client = app.test_client()
    section = client.get("/dashboard/sections/queues", headers={"Authorization": "Bearer ana-0123456789abcdef"})
    assert section.status_code == 403
    assert "only an admin" in section.get_json()["error"]["message"]


def test_the_queues_page_says_when_no_worker_is_registered_and_the_api_lists_none(client):
    assert 'id="no-workers"' in client.get("/queues").get_data(as_text=True)
    assert client.get("/api/workers").get_json() == {"items": []}
