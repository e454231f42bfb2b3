"""Every dashboard page in headless Chromium at 1400 and 420 px on a real web and worker with some of everything in
the ledger (a finished, a failed and a running task, a schedule with runs, a paused queue, an alert): each loads
and goes live without a console error, nothing is wider than the window, and a screenshot of each is written to
test-output/ (every-<page>-<width>.png) for review."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.conftest import save_screenshot
from tests.browser.test_list_page import api, enqueue, fits, live, no_console_errors, settled

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]


def test_every_page_loads_live_fits_420_px_and_is_captured(browser, service, tmp_path):
    web = service()
    done = enqueue(web, "api_echo", count=7, label="a long label " * 8)
    failed = enqueue(web, "api_fail", message="a rather long error message that goes on " * 4)
    settled(web, [done, failed])
    running = enqueue(web, "api_steps", steps=200, pause=0.5)
    schedule = api(web, "POST", "/api/schedules", {
        "name": "api_echo", "args": [1], "at": (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat(),
        "interval": 3600, "expect_every": 86400})
    api(web, "POST", "/api/queues/default/pause", {"reason": "shown paused on the Queues page", "by": "the test"})
    api(web, "POST", "/api/queues/default/resume")
    pages = {"queues": "/queues", "overview": "/", "list": "/list", "task": f"/tasks/{failed}", "failures": "/failures",
             "schedules": "/schedules", "schedule": f"/schedules/{schedule['id']}",
             "alerts": "/alerts"}
    for width in (1400, 420):
        browser.set_window_size(width, 1000)
        for name, path in pages.items():
            browser.get(web.url + path)
            live(browser)
            fits(browser)
            save_screenshot(browser, tmp_path, f"every-{name}-{width}.png")
    no_console_errors(browser)
    api(web, "POST", f"/api/tasks/{running}/cancel")
