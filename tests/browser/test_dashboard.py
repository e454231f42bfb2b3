"""The dashboard in real headless Chromium: enqueue through the form, watch the bar move, see it finish."""

from __future__ import annotations

import re
import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]


def wait(driver, timeout: float = 15) -> WebDriverWait:
    # sections and the form are re-rendered live: an element found a moment ago may be gone; look again
    return WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException])


def text_of(driver, css: str, timeout: float = 20) -> str:
    """The text of the element, waiting for it; sections are re-rendered live, so an element may go stale."""
    def read(d):
        try:
            found = d.find_elements(By.CSS_SELECTOR, css)
            return found[0].text if found else None
        except StaleElementReferenceException:
            return None
    return wait(driver, timeout).until(read)


def click(driver, css: str, timeout: float = 10) -> None:
    def press(d):
        try:
            d.find_element(By.CSS_SELECTOR, css).click()
            return True
        except StaleElementReferenceException:
            return False
    wait(driver, timeout).until(press)


def enqueue_through_the_form(driver, task_type: str, **values: str) -> int:
    wait(driver).until(lambda d: task_type in [o.text for o in Select(d.find_element(By.ID, "task-type")).options])
    Select(driver.find_element(By.ID, "task-type")).select_by_visible_text(task_type)
    for name, value in values.items():
        field = driver.find_element(By.ID, f"param-{name}")
        field.clear()
        field.send_keys(value)
    driver.find_element(By.ID, "enqueue-submit").click()
    flash = wait(driver).until(lambda d: re.search(r"Task (\d+) \(", d.find_element(By.ID, "flash").text))
    return int(flash.group(1))


def progress_until(driver, task_id: int, done, timeout: float = 30) -> list[int]:
    """The values task `task_id`'s progress bar showed, read every 50 ms until `done(driver)`; fails after
    `timeout` s. Read in one script: a section swapped in between two calls would leave a stale element."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while not done(driver):
        assert time.monotonic() < deadline, f"task {task_id} did not get there; progress seen: {seen}"
        values = driver.execute_script("return Array.from(document.querySelectorAll(arguments[0])).map(e => e.value);",
                                       f'progress[data-progress-for="{task_id}"]')
        if values and (not seen or int(values[0]) != seen[-1]):
            seen.append(int(values[0]))
        time.sleep(0.05)
    return seen


def test_a_task_enqueued_through_the_form_moves_and_finishes(browser, service, tmp_path):
    web = service()
    browser.get(web.url + "/")
    wait(browser).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class").split())
    browser.execute_script("window.__notReloaded = true;")

    task_id = enqueue_through_the_form(browser, "api_steps", steps="8", pause="0.5")

    bar = f'progress[data-progress-for="{task_id}"]'
    seen: list[int] = []
    deadline = time.monotonic() + 30
    shot = None
    while time.monotonic() < deadline:
        if browser.find_elements(By.CSS_SELECTOR, f'#section-finished [data-task-row="{task_id}"]'):
            break
        # read in one script: a section being swapped in between two calls would leave a stale element
        values = [int(v) for v in browser.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.value);", bar)]
        if values and (not seen or values[0] != seen[-1]):
            seen.append(values[0])
            if shot is None and 0 < values[0] < 100:
                shot = save_screenshot(browser, tmp_path, "dashboard-progress.png")
        time.sleep(0.05)
    else:
        raise AssertionError(f"task {task_id} did not show as finished; progress seen: {seen}")

    moving = [v for v in seen if 0 < v < 100]
    assert len(moving) >= 2 and moving == sorted(moving), f"the bar did not move step by step: {seen}"
    assert browser.execute_script("return window.__notReloaded === true;"), "the page was reloaded"
    assert '"steps": 8' in text_of(browser, f'#section-finished [data-task-row="{task_id}"]')
    assert not browser.find_elements(By.CSS_SELECTOR, f'#section-active [data-task-row="{task_id}"]')
    final = save_screenshot(browser, tmp_path, "dashboard.png")
    assert final.stat().st_size > 10_000 and shot is not None


def test_a_refused_form_shows_the_api_s_message(browser, service):
    web = service()
    browser.get(web.url + "/")
    wait(browser).until(lambda d: "api_echo" in [o.text for o in Select(d.find_element(By.ID, "task-type")).options])
    Select(browser.find_element(By.ID, "task-type")).select_by_visible_text("api_echo")
    browser.find_element(By.ID, "enqueue-submit").click()
    error = wait(browser).until(ready.visibility_of_element_located((By.ID, "enqueue-error")))
    assert "count is required" in error.text


def test_failed_tasks_show_their_log_and_can_be_retried(browser, service):
    web = service()
    browser.get(web.url + "/")
    task_id = enqueue_through_the_form(browser, "api_fail", message="disk full")
    row = f'#section-failed [data-task-row="{task_id}"]'
    assert "disk full" in text_of(browser, row)
    click(browser, f'{row} [data-action="retry"]')
    wait(browser).until(lambda d: f"Task {task_id} queued again." in d.find_element(By.ID, "flash").text)


def test_with_a_token_the_dashboard_asks_once_then_works(browser, service, tmp_path):
    web = service(RQLEDGER_API_TOKEN="browser-token")
    browser.get(web.url + "/")
    dialog = wait(browser).until(ready.visibility_of_element_located((By.ID, "token-dialog")))
    assert browser.find_elements(By.CSS_SELECTOR, "[data-task-row]") == []

    browser.find_element(By.ID, "token-input").send_keys("not-it")
    browser.find_element(By.ID, "token-submit").click()
    wait(browser).until(lambda d: "refused" in d.find_element(By.ID, "token-error").text)

    browser.find_element(By.ID, "token-input").send_keys("browser-token")
    browser.find_element(By.ID, "token-submit").click()
    wait(browser).until(lambda d: not dialog.is_displayed())
    wait(browser).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class").split())
    task_id = enqueue_through_the_form(browser, "api_echo", count="3")
    assert '"count": 3' in text_of(browser, f'#section-finished [data-task-row="{task_id}"]')

    browser.refresh()  # kept for the tab's session: not asked again
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-task-row="{task_id}"]'))
    assert not browser.find_element(By.ID, "token-dialog").is_displayed()
    save_screenshot(browser, tmp_path, "dashboard-with-token.png")
