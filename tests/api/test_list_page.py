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


def test_the_search_finds_text_in_arguments_and_logs_and_a_number_as_an_id(client, mixed):
    assert rows(page(client, "/list?q=DISK")) == mixed["failed"][::-1]  # the log: "ValueError: no disk 1"
    assert rows(page(client, "/list?q=no+disk+2")) == [mixed["failed"][1]]
    assert rows(page(client, f"/list?q={mixed['queued']}")) == [mixed["queued"]]
    assert rows(page(client, "/list?q=%22count%22%3A2")) == [mixed["done"][1]]  # '"count":2', the arguments' JSON
    assert rows(page(client, f"/list?q={mixed['queued']}&status=failed")) == []  # the id, and the status too
    html = page(client, "/list?q=nothing+like+this")
    assert rows(html) == [] and "No tasks match these filters." in html


def test_bad_statuses_and_cursors_say_why_and_the_rest_still_shows(client, mixed):
    html = page(client, "/list?q=disk&status=lost&cursor=abc")
    assert "&#39;lost&#39; is not a status" in html and "that cursor is not one" in html
    assert rows(html) == mixed["failed"][::-1]  # the rest of the page still works


def test_the_created_range_filters_and_stays_in_the_form_and_the_links(client, monkeypatch):
    monkeypatch.setattr(dashboard, "LIST_PAGE", 1)
    ids = [enqueue(client) for _ in range(2)]
    assert rows(page(client, "/list?since=2000-01-01&until=2000-01-02")) == []
    html = page(client, "/list?since=2000-01-01T00:00&until=8999-01-01T00:00%2B09:00&q=api_echo")
    assert rows(html) == [ids[1]]
    assert 'value="2000-01-01T00:00"' in html and 'value="8999-01-01T00:00+09:00"' in html
    assert 'value="api_echo"' in html
    older = re.search(r'href="([^"]+)" id="older-link"', html).group(1).replace("&amp;", "&")
    assert older == f"/list?since=2000-01-01T00%3A00&until=8999-01-01T00%3A00%2B09%3A00&q=api_echo&cursor={ids[1]}"
    assert rows(page(client, older)) == [ids[0]]


def test_an_unreadable_date_or_a_range_backwards_is_a_400_that_says_what_to_write(client, mixed):
    response = client.get("/list?since=yesterday&status=failed")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "since &#39;yesterday&#39; is not an ISO 8601 date and time: write e.g. 2026-12-05T14:30" in html
    assert rows(html) == [] and "Correct the filters above" in html
    assert 'value="yesterday"' in html and 'value="failed" checked>' in html  # kept, to be corrected
    response = client.get("/list?since=2026-12-05T10:00&until=2026-12-05")
    assert response.status_code == 400
    assert "since (2026-12-05T10:00) is after until (2026-12-05): no task can match" in response.get_data(as_text=True)
    section = client.get("/dashboard/sections/list?until=soon")
    assert section.status_code == 400
    assert "until &#39;soon&#39;" not in section.get_data(as_text=True)  # JSON, for the script to show
    assert section.get_json()["error"]["message"].startswith("until 'soon' is not an ISO 8601 date")


def test_the_bulk_bar_carries_the_filters_for_every_matching_task(client, mixed):
    html = page(client, "/list?status=failed&status=canceled&queue=default&q=disk&since=2000-01-01")
    query = re.search(r'data-api-query="([^"]*)"', html).group(1).replace("&amp;", "&")
    assert query == "status=failed%2Ccanceled&queue=default&since=2000-01-01&q=disk"
    api = client.get(f"/api/tasks?{query}").get_json()
    assert [item["id"] for item in api["items"]] == rows(html) == mixed["failed"][::-1]
    assert 'id="bulk-all"' in html


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


def test_under_the_prefix_an_owner_s_search_never_finds_another_owner_s_task(in_app):
    mine = enqueue(in_app, "/tasks", A, kwargs={"count": 1, "label": "shared words"})
    theirs = enqueue(in_app, "/tasks", B, kwargs={"count": 2, "label": "shared words"})
    assert rows(page(in_app, "/tasks/list?q=SHARED", A)) == [mine]
    assert rows(page(in_app, f"/tasks/list?q={theirs}", A)) == []  # their id, searched by number
    api = in_app.get("/tasks/api/tasks?q=shared", headers=A).get_json()
    assert [item["id"] for item in api["items"]] == [mine]
    assert rows(page(in_app, "/tasks/list?q=shared", ADMIN)) == [theirs, mine]


def test_under_the_prefix_a_signed_out_visitor_gets_401(in_app):
    assert in_app.get("/tasks/list").status_code == 401
    assert in_app.get("/tasks/dashboard/sections/list").status_code == 401
