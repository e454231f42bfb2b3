"""The overview's charts (/): inline SVG drawn from the ledger, whose buckets and text say the counts; an owner's
charts count only their own tasks."""

from __future__ import annotations

import re

import pytest

from tests.api.test_list_page import enqueue, page
from tests.flask_extension.test_scoping import A, ADMIN, B, host  # noqa: F401  (the host app, under /tasks)


def chart(html: str, chart_id: str) -> str:
    found = re.search(rf'<figure class="chart" id="{chart_id}">(.*?)</figure>', html, re.S)
    assert found, chart_id
    return found.group(1)


def totals(svg: str) -> tuple[int, int, int]:
    """The counts summed over the chart's buckets (each <g> says its own)."""
    return tuple(sum(int(n) for n in re.findall(rf'data-{kind}="(\d+)"', svg))
                 for kind in ("finished", "failed", "canceled"))


@pytest.fixture
def ended(client, work):
    """Three finished api_echo, two failed api_fail, one canceled."""
    for n in range(3):
        enqueue(client, kwargs={"count": n})
    for _ in range(2):
        enqueue(client, name="api_fail", kwargs={"message": "no"})
    work()
    canceled = enqueue(client)
    assert client.post(f"/api/tasks/{canceled}/cancel").status_code == 200
    enqueue(client)  # still queued: not counted


def test_the_hour_and_day_charts_hold_the_ledger_s_counts(client, ended):
    html = page(client, "/")
    for chart_id, buckets in (("chart-hour", 60), ("chart-day", 48)):
        svg = chart(html, chart_id)
        assert len(re.findall(r"<g data-bucket=", svg)) == buckets
        assert totals(svg) == (3, 2, 1)
        assert re.search(r"<title id=\"%s-title\">[^<]*: 3 finished, 2 failed, 1 canceled; at most [1-6] in one"
                         % chart_id, svg)
        assert 'role="img"' in svg and f'aria-labelledby="{chart_id}-title"' in svg
    assert "3 finished" in chart(html, "chart-hour") and "<script" not in chart(html, "chart-hour")


def test_durations_list_each_task_type_that_ran_with_its_runs(client, ended):
    durations = chart(page(client, "/"), "chart-durations")
    runs = dict(re.findall(r'data-type="([^"]+)" data-runs="(\d+)"', durations))
    assert runs == {"api_echo": "3", "api_fail": "2"}
    assert re.search(r'aria-label="api_echo: half of its 3 runs took [^"]+ or less, 95% took [^"]+ or less"',
                     durations)


def test_the_charts_are_a_section_the_page_re_reads(client, ended):
    html = page(client, "/")
    assert 'id="section-charts" data-section="charts"' in html
    fragment = client.get("/dashboard/sections/charts").get_data(as_text=True)
    assert "<html" not in fragment and totals(chart(fragment, "chart-hour")) == (3, 2, 1)


def test_with_nothing_ended_the_charts_are_empty_not_broken(client):
    html = page(client, "/")
    assert totals(chart(html, "chart-hour")) == (0, 0, 0)
    assert "No task ran to its end in the last day." in html


def test_under_the_prefix_an_owner_s_charts_count_only_their_tasks(host):  # noqa: F811
    client = host[0].test_client()
    for headers, count in ((A, 2), (B, 1)):
        for _ in range(count):
            task_id = enqueue(client, "/tasks", headers)
            assert client.post(f"/tasks/api/tasks/{task_id}/cancel", headers=headers).status_code == 200
    assert totals(chart(page(client, "/tasks/", A), "chart-hour")) == (0, 0, 2)
    assert totals(chart(page(client, "/tasks/", B), "chart-hour")) == (0, 0, 1)
    assert totals(chart(page(client, "/tasks/", ADMIN), "chart-hour")) == (0, 0, 3)
    section = client.get("/tasks/dashboard/sections/charts", headers=A).get_data(as_text=True)
    assert totals(chart(section, "chart-hour")) == (0, 0, 2)
