"""The task list (/list): every task, newest first, filtered and paged by its query string, each row linking to
its task's page; under the Flask extension an owner's list holds only their own tasks."""

from __future__ import annotations

import re

import pytest

from rqledger.entrypoints.web import dashboard
from tests.flask_extension.test_scoping import A, ADMIN, B, host  # noqa: F401  (the host app, under /tasks)


def enqueue(client, prefix: str = "", headers=None, **body) -> int:
    body = {"name": "api_echo", "kwargs": {"count": 1}, **body}
    response = client.post(f"{prefix}/api/tasks", json=body, headers=headers or {})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def rows(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-task-row="(\d+)"', html)]


def page(client, path: str, headers=None) -> str:
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


@pytest.fixture
def app(make_app):
    return make_app(RQLEDGER_QUEUES="default,slow")


@pytest.fixture
def mixed(client, work):
    """Two finished, two failed, one canceled and a queued task on another queue: their ids by kind."""
    done = [enqueue(client, kwargs={"count": n}) for n in (1, 2)]
    failed = [enqueue(client, name="api_fail", kwargs={"message": f"no disk {n}"}, owner="ana") for n in (1, 2)]
    work()
    canceled = enqueue(client)
    assert client.post(f"/api/tasks/{canceled}/cancel").status_code == 200
    queued = enqueue(client, queue="slow")
    return {"done": done, "failed": failed, "canceled": canceled, "queued": queued}


def test_the_list_shows_every_task_newest_first_each_linking_to_its_page(client, mixed):
    html = page(client, "/list")
    every = sorted(mixed["done"] + mixed["failed"] + [mixed["canceled"], mixed["queued"]], reverse=True)
    assert rows(html) == every
    assert all(f'href="/tasks/{i}"' in html for i in every)
    assert all(f'data-select value="{i}"' in html for i in every)  # a checkbox per row


def test_several_statuses_filter_together(client, mixed):
    html = page(client, "/list?status=failed&status=canceled")
    assert rows(html) == sorted(mixed["failed"] + [mixed["canceled"]], reverse=True)
    assert re.search(r'value="failed" checked>', html) and re.search(r'value="canceled" checked>', html)
    assert rows(page(client, "/list?status=failed,canceled")) == rows(html)  # the API's comma form too


def test_name_owner_and_queue_filter(client, mixed):
    assert rows(page(client, "/list?name=api_fail")) == mixed["failed"][::-1]
    assert rows(page(client, "/list?owner=ana&status=failed")) == mixed["failed"][::-1]
    assert rows(page(client, "/list?owner=nobody")) == []
    assert rows(page(client, "/list?queue=slow")) == [mixed["queued"]]
    assert "No tasks match these filters." in page(client, "/list?queue=nowhere")


def test_a_task_id_in_the_search_goes_to_its_page(client, mixed):
    response = client.get(f"/list?q=%23{mixed['queued']}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{mixed['queued']}")


def test_text_in_the_search_says_only_ids_are_searched_and_bad_filters_say_why(client, mixed):
    html = page(client, "/list?q=disk&status=lost&cursor=abc")
    assert "&#39;disk&#39; is not a task id" in html
    assert "&#39;lost&#39; is not a status" in html and "that cursor is not one" in html
    assert len(rows(html)) == 6  # the rest of the page still works


def test_pages_go_older_with_the_cursor_and_keep_the_filters(client, monkeypatch):
    monkeypatch.setattr(dashboard, "LIST_PAGE", 3)
    ids = [enqueue(client, kwargs={"count": n}) for n in range(7)]
    first = page(client, "/list?name=api_echo&status=queued")
    assert rows(first) == ids[::-1][:3]
    older = re.search(r'id="older-link" href="([^"]+)"|href="([^"]+)" id="older-link"', first)
    link = (older.group(1) or older.group(2)).replace("&amp;", "&")
    assert link == f"/list?status=queued&name=api_echo&cursor={ids[4]}"
    second = page(client, link)
    assert rows(second) == ids[::-1][3:6] and 'id="newest-link"' in second
    third = page(client, f"/list?status=queued&name=api_echo&cursor={ids[1]}")
    assert rows(third) == [ids[0]] and 'id="older-link"' not in third


def test_the_queue_is_filtered_across_the_ledgers_pages(client, monkeypatch):
    monkeypatch.setattr(dashboard, "LIST_PAGE", 2)
    slow = [enqueue(client, queue="slow") for _ in range(3)]
    for _ in range(5):
        enqueue(client)
    html = page(client, "/list?queue=slow")
    assert rows(html) == slow[::-1][:2]
    assert f"cursor={slow[1]}" in html
    assert rows(page(client, f"/list?queue=slow&cursor={slow[1]}")) == [slow[0]]


def test_values_are_escaped(client, work):
    enqueue(client, kwargs={"count": 1, "label": "<b>hi</b>"}, owner="<i>o</i>")
    enqueue(client, name="api_fail", kwargs={"message": "no <disk>"})
    work()
    html = page(client, '/list?name="><script>x</script>')
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    html = page(client, "/list")
    assert "<b>hi</b>" not in html and "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "<i>o</i>" not in html and "&lt;i&gt;o&lt;/i&gt;" in html
    assert "no <disk>" not in html and "no &lt;disk&gt;" in html


def test_the_section_renders_the_same_rows_as_a_fragment_for_the_live_view(client, mixed):
    html = page(client, "/list?status=failed&name=api_fail")
    assert 'data-path="/dashboard/sections/list?status=failed&amp;name=api_fail"' in html
    assert 'data-watch-statuses="failed"' in html and 'data-watch-name="api_fail"' in html
    fragment = client.get("/dashboard/sections/list?status=failed&name=api_fail").get_data(as_text=True)
    assert rows(fragment) == mixed["failed"][::-1] and "<html" not in fragment


def test_the_header_links_the_list_and_the_failures(client):
    for path in ("/", "/list", "/failures"):
        html = page(client, path)
        assert 'href="/list" id="nav-list"' in html and 'href="/failures" id="nav-failures"' in html
    assert 'id="nav-list" aria-current="page"' in page(client, "/list")


def test_with_a_token_the_page_holds_no_data_and_its_section_needs_the_token(make_app):
    client = make_app(RQLEDGER_API_TOKEN="t0ken-0123456789").test_client()
    bearer = {"Authorization": "Bearer t0ken-0123456789"}
    task_id = enqueue(client, headers=bearer, kwargs={"count": 77777})
    assert "77777" not in page(client, "/list")
    assert client.get("/dashboard/sections/list").status_code == 401
    assert rows(client.get("/dashboard/sections/list", headers=bearer).get_data(as_text=True)) == [task_id]


# -- under the Flask extension (/tasks), per owner -------------------------------------------------------


@pytest.fixture
def in_app(host):  # noqa: F811
    return host[0].test_client()


def test_under_the_prefix_an_owner_lists_only_their_own_tasks(in_app):
    mine = [enqueue(in_app, "/tasks", A, kwargs={"count": 111111}) for _ in range(2)]
    theirs = enqueue(in_app, "/tasks", B, kwargs={"count": 222222})
    html = page(in_app, "/tasks/list", A)
    assert rows(html) == mine[::-1] and "222222" not in html
    assert 'href="/tasks/list" id="nav-list"' in html and f'href="/tasks/tasks/{mine[0]}"' in html
    assert 'id="filter-owner"' not in html  # an owner has no owner filter
    assert rows(page(in_app, "/tasks/list?owner=8", A)) == []  # naming another owner finds nothing
    assert rows(page(in_app, f"/tasks/list?cursor={theirs + 1}", A)) == mine[::-1]
    assert rows(in_app.get("/tasks/dashboard/sections/list", headers=A).get_data(as_text=True)) == mine[::-1]
    assert rows(page(in_app, "/tasks/list", ADMIN)) == [theirs] + mine[::-1]
    assert rows(page(in_app, "/tasks/list?owner=8", ADMIN)) == [theirs]


def test_under_the_prefix_a_signed_out_visitor_gets_401(in_app):
    assert in_app.get("/tasks/list").status_code == 401
    assert in_app.get("/tasks/dashboard/sections/list").status_code == 401
