"""Failures grouped (/failures): the newest failed tasks, grouped by task type + exception type + normalised
message, each group with its count, first and last seen, owners, a sample task and "Retry all"."""

from __future__ import annotations

import re

import pytest

from rqledger.entrypoints.web import dashboard
from tests.flask_extension.test_scoping import A, ADMIN, B, host  # noqa: F401  (the host app, under /tasks)


def fail(client, message: str, prefix: str = "", headers=None, **body) -> int:
    response = client.post(f"{prefix}/api/tasks", json={"name": "api_fail", "kwargs": {"message": message}, **body},
                           headers=headers or {})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def groups(html: str) -> list[tuple[str, list[int]]]:
    """(the group's count, its task ids) per group, in the page's order."""
    found = re.findall(r'<span class="count"[^>]*>(\d+)×</span>.*?data-ids="([\d ]+)"', html, re.DOTALL)
    return [(int(count), [int(i) for i in ids.split()]) for count, ids in found]


def page(client, path: str, headers=None) -> str:
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_failures_with_the_same_kind_of_message_are_one_group(client, work):
    same = [fail(client, f"user {n} not found", owner=owner) for n, owner in ((4, "ana"), (17, "bo"), (99, "ana"))]
    other = fail(client, "disk full")
    client.post("/api/tasks", json={"name": "api_echo", "kwargs": {"count": 1}})
    work()
    html = page(client, "/failures")
    assert groups(html) == [(3, same[::-1]), (1, [other])]
    assert "user &lt;n&gt; not found" in html and '<span class="error-type">ValueError</span>' in html
    assert "4 failed tasks in 2 groups." in html
    assert "2 owners" in html and "0 owners" in html
    assert f'href="/tasks/{same[-1]}" class="sample"' in html  # the newest is the sample
    assert 'aria-label="retry all 3 tasks of this group"' in html


def test_a_group_shows_when_it_was_first_and_last_seen(client, work, container):
    ids = [fail(client, "late 1"), fail(client, "late 2")]
    work()
    tasks = [container.get_task()(i) for i in ids]
    html = page(client, "/failures")
    stamps = re.findall(r'(first|last) <span class="time" title="([^"]+)"', html)
    assert stamps == [("first", tasks[0].ended_at.isoformat()), ("last", tasks[1].ended_at.isoformat())]


def test_only_the_newest_failures_are_read_and_the_page_says_so(client, work, monkeypatch):
    monkeypatch.setattr(dashboard, "FAILURES_WINDOW", 2)
    ids = [fail(client, f"n {n}") for n in range(3)]
    work()
    html = page(client, "/failures")
    assert groups(html) == [(2, ids[:0:-1])] and "older failures are not counted" in html


def test_retried_tasks_leave_their_group(client, work):
    ids = [fail(client, f"n {n}") for n in range(2)]
    work()
    assert client.post(f"/api/tasks/{ids[0]}/retry").status_code == 202
    assert groups(page(client, "/failures")) == [(1, [ids[1]])]


def test_messages_are_escaped(client, work):
    fail(client, "<script>alert(1)</script> at 'x'")
    work()
    html = page(client, "/failures")
    assert "<script>alert" not in html and "&lt;script&gt;alert(&lt;n&gt;)&lt;/script&gt; at &lt;str&gt;" in html


def test_nothing_failed_says_so_and_the_section_is_a_fragment(client, work):
    assert "No failed tasks." in page(client, "/failures")
    fail(client, "x")
    work()
    fragment = client.get("/dashboard/sections/failures").get_data(as_text=True)
    assert len(groups(fragment)) == 1 and "<html" not in fragment
    html = page(client, "/failures")
    assert 'data-path="/dashboard/sections/failures"' in html and 'data-watch-statuses="failed"' in html


def test_with_a_token_the_page_holds_no_data_and_its_section_needs_the_token(make_app):
    app = make_app(RQLEDGER_API_TOKEN="t0ken-0123456789")
    client = app.test_client()
    bearer = {"Authorization": "Bearer t0ken-0123456789"}
    fail(client, "secret 77777", headers=bearer)
    from rqledger.adapters.memory import InMemoryWorker
    from rqledger.entrypoints.web.context import KEY
    InMemoryWorker(app.extensions[KEY].queue(), app.extensions[KEY].run_task(), name="w").work()
    assert "77777" not in page(client, "/failures")
    assert client.get("/dashboard/sections/failures").status_code == 401
    assert "secret 77777" in client.get("/dashboard/sections/failures", headers=bearer).get_data(as_text=True)


# -- under the Flask extension (/tasks), per owner -------------------------------------------------------


@pytest.fixture
def in_app(host):  # noqa: F811
    from rqledger.adapters.memory import InMemoryWorker

    app, ext = host
    client = app.test_client()
    container = app.extensions["rqledger"].container
    client.work = InMemoryWorker(container.queue(), container.run_task(), name="w").work
    return client


def test_under_the_prefix_an_owner_sees_only_their_own_failures(in_app):
    mine = fail(in_app, "quota 111111", "/tasks", A)
    theirs = fail(in_app, "quota 222222", "/tasks", B)
    in_app.work()
    html = page(in_app, "/tasks/failures", A)
    assert groups(html) == [(1, [mine])] and "222222" not in html and f"/tasks/tasks/{theirs}" not in html
    assert f'href="/tasks/tasks/{mine}" class="sample"' in html and 'href="/tasks/failures" id="nav-failures"' in html
    assert groups(in_app.get("/tasks/dashboard/sections/failures", headers=B).get_data(as_text=True)) == [(1, [theirs])]
    assert groups(page(in_app, "/tasks/failures", ADMIN)) == [(2, [theirs, mine])]
    assert in_app.get("/tasks/failures").status_code == 401
