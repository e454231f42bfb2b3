"""The dashboard's server-rendered page and sections, through Flask's test client on the SQL ledger."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest


@pytest.fixture
def ledger(client, container, work):
    """A finished, a failed, a running-free queue, and a schedule with one run."""
    done = client.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 4, "label": "<b>hi</b>"}})
    failed = client.post("/api/tasks", json={"name": "api_fail", "kwargs": {"message": "no <disk>"}})
    work()
    queued = client.post("/api/tasks", json={"name": "api_echo", "args": [9]})
    schedule = client.post("/api/schedules", json={"name": "api_echo", "args": [2],
                                                   "at": datetime.now(timezone.utc).isoformat()})
    container.scheduler().fire_due(container.run_schedule())
    return {name: response.get_json()["id"] for name, response in
            {"done": done, "failed": failed, "queued": queued, "schedule": schedule}.items()}


def test_without_a_token_the_page_arrives_filled_in(client, ledger):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert f'data-task-row="{ledger["queued"]}" data-status="queued"' in html
    assert f'data-task-row="{ledger["done"]}" data-status="finished"' in html
    assert f'data-task-row="{ledger["failed"]}" data-status="failed"' in html
    assert f'data-schedule-row="{ledger["schedule"]}"' in html
    assert 'data-progress-for="%d"' % ledger["queued"] in html


def test_values_are_escaped(client, ledger):
    html = client.get("/").get_data(as_text=True)
    assert "<b>hi</b>" not in html and "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "no <disk>" not in html and "no &lt;disk&gt;" in html


@pytest.mark.parametrize("section, expected", [
    ("active", 'data-status="queued"'), ("finished", "&lt;b&gt;hi&lt;/b&gt;"),
    ("failed", "ValueError: no &lt;disk&gt;"), ("schedules", 'class="run finished"'),
])
def test_each_section_renders_as_a_fragment(client, ledger, section, expected):
    response = client.get(f"/dashboard/sections/{section}")
    assert response.status_code == 200
    assert expected in response.get_data(as_text=True)
    assert "<html" not in response.get_data(as_text=True)


def test_an_unknown_section_is_404(client):
    assert client.get("/dashboard/sections/secrets").status_code == 404


def test_html_is_served_with_a_strict_content_security_policy(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_script_and_stylesheet_are_served(client):
    assert client.get("/static/dashboard.js").status_code == 200
    assert client.get("/static/dashboard.css").status_code == 200


def test_metrics_are_registered_when_their_module_exists(client, ledger):
    response = client.get("/metrics")
    assert response.status_code == 200 and b"api_echo" in response.data
