"""The dashboard's /schedules and /schedules/<id> pages (Flask test client, SQLite ledger, in-memory scheduler):
timings in words, status labels that read right, runs, paging, and another owner's schedule is not there."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rqledger.entrypoints.web.dashboard import cron_words


def schedule(client, **body) -> dict:
    response = client.post("/api/schedules", json={"name": "api_echo", **body})
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def test_the_schedules_page_reads_right(client, container):
    now = datetime.now(timezone.utc)
    nightly = schedule(client, args=[1], cron="0 3 * * *")
    once = schedule(client, args=[2], at=(now - timedelta(seconds=1)).isoformat())
    failing = schedule(client, name="api_fail", at=(now - timedelta(seconds=1)).isoformat(), interval=3600)
    canceled = schedule(client, args=[3], cron="*/5 * * * *")
    client.post(f"/api/schedules/{canceled['id']}/cancel")
    container.scheduler().fire_due(container.run_schedule())

    html = client.get("/schedules").get_data(as_text=True)

    def label(item):  # the head and facts of the schedule's row
        return html.split(f'data-schedule-row="{item["id"]}"', 1)[1][:600]

    assert "every day at 03:00 (UTC)" in label(nightly) and ">active</span>" in label(nightly)
    assert ">done</span>" in label(once)
    assert ">last run failed</span>" in label(failing) and "every 1 h from" in label(failing)
    assert ">canceled</span>" in label(canceled) and "every 5 min (UTC)" in label(canceled)
    assert f'href="/schedules/{nightly["id"]}"' in html
    assert 'id="nav-schedules" aria-current="page"' in html


def test_the_schedules_page_has_a_form_that_creates_one_through_the_api(client):
    html = client.get("/schedules").get_data(as_text=True)
    form = html.split('<form id="schedule-form"', 1)[1].split("</form>", 1)[0]
    assert 'id="schedule-type" name="name" data-task-types' in form  # filled from GET /api/task-types
    for field in ("schedule-args", "schedule-kwargs", "schedule-at", "schedule-interval", "schedule-repeat",
                  "schedule-cron", "schedule-timezone", "schedule-catch-up"):
        assert f'id="{field}"' in form and f'for="{field}"' in form, field
    assert [v for v in ("at", "every", "cron") if f'name="timing" value="{v}"' in form] == ["at", "every", "cron"]
    assert all(f'<option value="{p}"' in form for p in ("latest", "skip", "all"))
    assert 'id="schedule-error" class="error" role="alert" hidden' in form
    assert 'method=' not in form.split(">", 1)[0]  # the script sends it (POST /api/schedules), never the browser


def test_a_schedules_page_shows_its_settings_and_runs(client, container):
    now = datetime.now(timezone.utc)
    item = schedule(client, name="api_fail", at=(now - timedelta(seconds=1)).isoformat(), interval=60,
                    expect_every=86400, alert_after_failures=2, catch_up="skip")
    container.scheduler().fire_due(container.run_schedule())

    page = client.get(f"/schedules/{item['id']}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "every 1 min from" in html and "a success expected every 86400 s" in html
    assert "2 failed runs in a row" in html and ">skip<" in html
    assert 'data-status="failed"' in html and "boom" in html
    section = client.get(f"/dashboard/sections/schedule/{item['id']}").get_data(as_text=True)
    assert f'data-schedule-row="{item["id"]}"' in section
    missing = client.get("/schedules/999")
    assert missing.status_code == 404 and 'id="schedule-missing"' in missing.get_data(as_text=True)


def test_the_schedules_page_pages_by_cursor(client):
    ids = [schedule(client, args=[n], cron="0 3 * * *")["id"] for n in range(51)]
    first = client.get("/schedules").get_data(as_text=True)
    assert first.count("data-schedule-row=") == 50 and f'data-schedule-row="{ids[0]}"' not in first
    assert 'id="schedules-older"' in first
    older = client.get(f"/schedules?cursor={ids[1]}").get_data(as_text=True)
    assert older.count("data-schedule-row=") == 1 and f'data-schedule-row="{ids[0]}"' in older
    assert 'id="schedules-newest"' in older


@pytest.mark.parametrize("expression, words", [
    ("0 3 * * *", "every day at 03:00"), ("30 8 * * 1", "every Monday at 08:30"),
    ("0 9 * * 1-5", "every weekday at 09:00"), ("*/15 * * * *", "every 15 min"), ("5 * * * *", "every hour at :05"),
    ("0 0 1 * *", "on day 1 of every month at 00:00"), ("* * * * *", "every minute"),
    ("0 3 1-7 * 1", "cron 0 3 1-7 * 1"), ("0 0 29 2 *", "cron 0 0 29 2 *"),
])
def test_cron_in_words(expression, words):
    assert cron_words(expression) == words
