"""Another web site cannot act through a visitor's browser (CSRF), nor run script in the dashboard (XSS).

With a token, authority travels only in the Authorization header, which a cross-site
form cannot send and a cross-origin script cannot send without a CORS grant (never
given). Without a token (a developer's `rqledger dev`), a browser still says where a
request comes from (Sec-Fetch-Site, Origin): a write from another site is refused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rqledger.entrypoints.web import app as web_app

EVIL = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
DASHBOARD_JS = Path(web_app.__file__).with_name("static") / "dashboard.js"


def queued_task(client) -> int:
    response = client.post("/api/tasks", json={"name": "api_echo", "args": [1]})
    assert response.status_code == 202
    return response.get_json()["id"]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"])
def test_a_cross_site_form_cannot_enqueue(api, content_type):
    client, _ = api
    response = client.post("/api/tasks", data='{"name": "api_echo", "args": [1]}', content_type=content_type,
                           headers=EVIL)
    assert 400 <= response.status_code < 500
    assert client.get("/api/tasks").get_json()["items"] == []


@pytest.mark.parametrize("action", ["cancel", "retry"])
def test_a_cross_site_form_cannot_cancel_or_retry_without_a_token(api, action):
    client, _ = api
    task_id = queued_task(client)
    if action == "retry":
        assert client.post(f"/api/tasks/{task_id}/cancel").status_code == 200
    before = client.get(f"/api/tasks/{task_id}").get_json()["status"]

    # what <form method="post" action="http://127.0.0.1:8000/api/tasks/1/cancel"> on another site sends
    response = client.post(f"/api/tasks/{task_id}/{action}", content_type="application/x-www-form-urlencoded",
                           headers=EVIL)

    assert response.status_code == 403, response.get_json()
    assert "cross-site" in response.get_json()["error"]["message"]
    assert client.get(f"/api/tasks/{task_id}").get_json()["status"] == before


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "same-site"}])
def test_a_write_from_another_origin_is_refused_by_either_signal(api, headers):
    client, _ = api
    task_id = queued_task(client)
    assert client.delete(f"/api/tasks/{task_id}", headers=headers).status_code == 403
    assert client.post("/api/schedules/1/cancel", headers=headers).status_code == 403


@pytest.mark.parametrize("headers", [
    {},                                                                  # curl, scripts: no browser signals
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},     # the dashboard itself
    {"Sec-Fetch-Site": "none"},                                          # typed by the user
    {"Origin": "http://localhost"},                                      # an older browser, same origin
])
def test_writes_from_the_dashboard_and_from_non_browser_clients_are_taken(api, headers):
    client, _ = api
    task_id = queued_task(client)
    assert client.post(f"/api/tasks/{task_id}/cancel", headers=headers).status_code == 200


def test_reads_are_not_refused_for_their_origin(api):
    client, _ = api
    assert client.get("/api/tasks", headers=EVIL).status_code == 200  # no CORS grant: the page cannot read it


def test_no_cross_origin_grant_is_ever_given(make_api):
    app, _ = make_api(RQLEDGER_API_TOKEN="t0ken")
    client = app.test_client()
    preflight = client.options("/api/tasks", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    answers = [preflight, client.get("/api/tasks", headers={"Origin": "http://evil.example",
                                                            "Authorization": "Bearer t0ken"})]
    for response in answers:
        assert not any(name.lower().startswith("access-control-") for name in response.headers.keys())


def test_the_dashboard_writes_with_post_or_delete_and_the_bearer_header_only():
    script = DASHBOARD_JS.read_text()
    methods = set(re.findall(r'\["(GET|POST|PUT|PATCH|DELETE)", `/api/', script))
    assert methods and methods <= {"POST", "DELETE"}, methods
    assert 'headers.Authorization = "Bearer " + token()' in script
    # no cookie carries authority, unless the page is served behind the host app's login (the Flask extension)
    assert 'dataset.session === "true" ? "same-origin" : "omit"' in script and "credentials: CREDENTIALS" in script
    assert "document.cookie" not in script


def test_task_data_is_escaped_in_the_dashboard(api):
    client, _ = api
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    response = client.post("/api/tasks", json={"name": "api_echo", "args": [1], "kwargs": {"label": payload},
                                               "owner": payload, "description": payload})
    assert response.status_code == 202
    for page in ("/", "/dashboard/sections/active"):
        html = client.get(page).get_data(as_text=True)
        assert "&lt;script&gt;" in html or "&lt;img" in html, page
        assert "<script>alert" not in html and "<img src=x" not in html, page
