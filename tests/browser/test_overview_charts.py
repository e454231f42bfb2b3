"""The overview's charts in headless Chromium, on a real `rqledger web` + worker: a task that ends is counted in
the charts without a reload (the section is re-read after an end event, not polled)."""

from __future__ import annotations

import pytest

from tests.browser.test_list_page import enqueue, live, no_console_errors, settled
from tests.browser.test_dashboard import wait

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]

COUNTED = """return Array.from(document.querySelectorAll('#chart-hour g[data-bucket]'),
  g => [Number(g.dataset.finished), Number(g.dataset.failed)]).reduce((a, b) => [a[0] + b[0], a[1] + b[1]], [0, 0]);"""


def test_the_charts_count_a_task_that_ends_while_the_page_is_open(browser, service):
    web = service()
    browser.get(web.url + "/")
    live(browser)
    assert browser.execute_script(COUNTED) == [0, 0]
    browser.execute_script("window.__notReloaded = true;")
    settled(web, [enqueue(web, "api_echo", count=1), enqueue(web, "api_fail", message="no")])
    wait(browser, 20).until(lambda d: d.execute_script(COUNTED) == [1, 1])
    assert browser.execute_script("return window.__notReloaded === true;"), "the page was reloaded"
    no_console_errors(browser)
