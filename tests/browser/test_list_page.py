"""The task list and the failures page in headless Chromium, on a real `rqledger web` + worker: a bulk retry
touches exactly the rows it said it would (checked through the API afterwards), a failure group's "Retry all"
its own tasks only, the pages fit a phone's width, and neither logs a console error."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import save_screenshot
from tests.browser.test_dashboard import click, text_of, wait

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]


def api(web, method: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    call = urllib.request.Request(web.url + path, data=data, method=method,
                                  headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(call, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def enqueue(web, name: str, **kwargs) -> int:
    return api(web, "POST", "/api/tasks", {"name": name, "kwargs": kwargs})["id"]


def settled(web, ids: list[int], attempts: int = 1, timeout: float = 30) -> dict[int, dict]:
    """The tasks once each has ended after `attempts` attempts (their JSON by id)."""
    deadline = time.monotonic() + timeout
    while True:
        tasks = {i: api(web, "GET", f"/api/tasks/{i}") for i in ids}
        if all(t["status"] in ("failed", "finished") and t["attempts"] == attempts for t in tasks.values()):
            return tasks
        assert time.monotonic() < deadline, {i: (t["status"], t["attempts"]) for i, t in tasks.items()}
        time.sleep(0.1)


def live(browser) -> None:
    wait(browser).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class").split())


def no_console_errors(browser) -> None:
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


def press_space(browser, css: str) -> None:
    """Space on the element; looked up again if the live section re-rendered it in between (CI saw that once)."""
    def press(d):
        try:
            d.find_element(By.CSS_SELECTOR, css).send_keys(Keys.SPACE)
            return True
        except StaleElementReferenceException:
            return False
    wait(browser).until(press)


def fits(browser) -> None:
    """Nothing wider than the window: no sideways scrolling (the width left beside a vertical scrollbar counts)."""
    widths = browser.execute_script("return [document.documentElement.scrollWidth, "
                                    "document.documentElement.clientWidth];")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def test_a_bulk_retry_touches_exactly_the_selected_rows_and_reports_each_refusal(browser, service, tmp_path):
    web = service()
    failed = [enqueue(web, "api_fail", message=f"user {n} not found") for n in range(5)]
    finished = enqueue(web, "api_echo", count=1)
    settled(web, failed + [finished])
    browser.set_window_size(1400, 1000)
    browser.get(web.url + "/list?status=failed")
    live(browser)
    assert sorted(int(i) for i in browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-task-row]'), r => r.dataset.taskRow);")) == failed

    chosen = [failed[0], failed[2], failed[4]]
    for task_id in chosen[:2]:
        click(browser, f'input[data-select][value="{task_id}"]')
    press_space(browser, f'input[data-select][value="{chosen[2]}"]')  # a checkbox is ticked with the keyboard too
    assert text_of(browser, "#bulk-count") == "3 selected"
    save_screenshot(browser, tmp_path, "list-page-1400.png")

    click(browser, '#bulk-bar button[data-bulk="retry"]')
    assert text_of(browser, "#bulk-question") == "Retry 3 tasks?"
    assert browser.switch_to.active_element.get_attribute("id") == "bulk-keep"  # the harmless answer first
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "bulk-confirm"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait(browser).until(lambda d: d.find_element(By.ID, "bulk-summary").text == "3 of 3 tasks retried.")

    after = settled(web, chosen, attempts=2)
    assert all(t["status"] == "failed" for t in after.values())
    untouched = {i: api(web, "GET", f"/api/tasks/{i}") for i in set(failed) - set(chosen)}
    assert all(t["attempts"] == 1 and t["status"] == "failed" for t in untouched.values()), untouched
    assert api(web, "GET", f"/api/tasks/{finished}")["attempts"] == 1

    no_console_errors(browser)

    # a retry the API refuses is listed with its task and the API's reason; the others still go
    browser.get(web.url + "/list")
    live(browser)
    click(browser, f'input[data-select][value="{finished}"]')
    click(browser, f'input[data-select][value="{failed[1]}"]')
    click(browser, '#bulk-bar button[data-bulk="retry"]')
    assert text_of(browser, "#bulk-question") == "Retry 2 tasks?"
    click(browser, "#bulk-confirm")
    summary = wait(browser).until(lambda d: d.find_element(By.ID, "bulk-summary").text.startswith("1 of 2")
                                  and d.find_element(By.ID, "bulk-summary"))
    assert summary.text.startswith("1 of 2 tasks retried; 1 failed:")
    refused = summary.find_elements(By.CSS_SELECTOR, "li[data-failed-id]")
    assert [r.get_attribute("data-failed-id") for r in refused] == [str(finished)]
    assert refused[0].text == f"task {finished}: task {finished} cannot go from finished to queued"  # the API's own
    settled(web, [failed[1]], attempts=2)
    assert api(web, "GET", f"/api/tasks/{finished}")["status"] == "finished"
    # the browser logs the refused call's 409 itself (a network entry): that one and nothing else
    logged = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert len(logged) == 1 and f"/api/tasks/{finished}/retry" in logged[0] and "409" in logged[0], logged

    browser.set_window_size(420, 900)
    browser.get(web.url + "/list")
    live(browser)
    fits(browser)
    save_screenshot(browser, tmp_path, "list-page-420.png")
    no_console_errors(browser)


def test_a_bulk_retry_of_every_task_matching_the_filters_counts_them_all_first_and_touches_only_them(
        browser, service):
    web = service()
    users = [enqueue(web, "api_fail", message=f"user {n} not found") for n in range(4)]
    disks = [enqueue(web, "api_fail", message=f"disk {n} is full") for n in range(2)]
    settled(web, users + disks)
    browser.set_window_size(1400, 1000)
    browser.get(web.url + f"/list?q=USER&cursor={users[2]}")  # an older page: two of the four matching tasks
    live(browser)
    assert browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-task-row]'), r => Number(r.dataset.taskRow));"
    ) == [users[1], users[0]]

    click(browser, "#bulk-all")
    assert text_of(browser, "#bulk-count") == "every matching task"
    click(browser, '#bulk-bar button[data-bulk="retry"]')
    wait(browser).until(lambda d: d.find_element(By.ID, "bulk-question").text == "Retry 4 tasks?")
    assert text_of(browser, "#bulk-detail") == (
        "Every task matching the filters: " + ", ".join(str(i) for i in users[::-1]) + ".")
    click(browser, "#bulk-confirm")
    wait(browser).until(lambda d: d.find_element(By.ID, "bulk-summary").text == "4 of 4 tasks retried.")

    settled(web, users, attempts=2)
    assert all(api(web, "GET", f"/api/tasks/{i}")["attempts"] == 1 for i in disks)
    assert not browser.find_element(By.ID, "bulk-all").is_selected()
    no_console_errors(browser)


def test_retry_all_in_a_failure_group_retries_that_group_only(browser, service, tmp_path):
    web = service()
    users = [enqueue(web, "api_fail", message=f"user {n} not found") for n in (3, 41, 977)]
    disks = [enqueue(web, "api_fail", message=f"volume '{name}' is full at {n}%") for name, n in (("a", 99), ("b c", 100))]
    settled(web, users + disks)
    browser.set_window_size(1400, 1000)
    browser.get(web.url + "/failures")
    live(browser)
    assert "5 failed tasks in 2 groups." in text_of(browser, "#failures-summary")
    save_screenshot(browser, tmp_path, "failures-page-1400.png")

    group = f'[data-task-ids="{" ".join(str(i) for i in disks[::-1])}"]'
    assert "2×" in text_of(browser, group)
    click(browser, f'{group} button[data-bulk="retry"]')
    assert text_of(browser, "#bulk-question") == "Retry 2 tasks?"
    click(browser, "#bulk-confirm")
    wait(browser).until(lambda d: d.find_element(By.ID, "bulk-summary").text == "2 of 2 tasks retried.")

    settled(web, disks, attempts=2)
    assert all(api(web, "GET", f"/api/tasks/{i}")["attempts"] == 1 for i in users)
    # the page follows on its own: the retried tasks failed again, and are back in their group; a new kind of
    # failure is a new group, without a reload
    browser.execute_script("window.__notReloaded = true;")
    wait(browser, 20).until(lambda d: "2×" in d.find_element(By.CSS_SELECTOR, group).text)
    fresh = enqueue(web, "api_fail", message="quota of 'ana' exceeded")
    wait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-task-ids="{fresh}"]'))
    assert "quota of <str> exceeded" in text_of(browser, f'[data-task-ids="{fresh}"]')
    assert browser.execute_script("return window.__notReloaded === true;"), "the page was reloaded"

    browser.set_window_size(420, 900)
    browser.get(web.url + "/failures")
    live(browser)
    fits(browser)
    save_screenshot(browser, tmp_path, "failures-page-420.png")
    no_console_errors(browser)


def test_the_list_follows_new_tasks_live_and_keeps_the_selection(browser, service):
    web = service()
    first = enqueue(web, "api_echo", count=1)
    settled(web, [first])
    browser.get(web.url + "/list")
    live(browser)
    browser.execute_script("window.__notReloaded = true;")
    click(browser, f'input[data-select][value="{first}"]')
    later = enqueue(web, "api_steps", steps=3, pause=0.3)
    wait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-task-row="{later}"]'))
    wait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-task-row="{later}"][data-status="finished"]'))
    assert browser.find_element(By.CSS_SELECTOR, f'input[data-select][value="{first}"]').is_selected()
    assert text_of(browser, "#bulk-count") == "1 selected"
    assert browser.execute_script("return window.__notReloaded === true;"), "the page was reloaded"
    no_console_errors(browser)
