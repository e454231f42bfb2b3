"""The example as a person uses it, in headless Chromium: the README's two commands (`flask --app
examples.flask_app run` and `rqledger worker`) as real processes; sign in through the form, press "Export my
posts", and watch the page's progress alert (kept current by `{{ rqledger_progress_script() }}`) move and end
finished, the task list's row with it, without reloading."""

from __future__ import annotations

import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import browser, save_screenshot  # noqa: F401  (the shared headless Chromium)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def example_env(example_env):
    """A little slower than the other tests' exports: five posts take 2.5 s, time for the bar to be seen moving."""
    return {**example_env, "EXPORT_SECONDS_PER_POST": "0.5"}


def test_the_export_progress_moves_live_and_the_page_shows_it_done(browser, flask_run, start_worker,  # noqa: F811
                                                                   outbox, tmp_path):
    start_worker()
    browser.get(flask_run.url + "/login")
    browser.find_element(By.ID, "username").send_keys("susan")
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith("/user/susan"))
    browser.find_element(By.ID, "export").click()

    alert = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, ".task[data-rqledger-task]"))
    task_id = alert.get_attribute("data-rqledger-task")
    assert "Exporting posts..." in alert.text
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 30
    while not seen or seen[-1][0] != "finished":
        assert time.monotonic() < deadline, f"the export did not show as finished; seen: {seen}"
        try:
            state = (alert.get_attribute("data-rqledger-status"),
                     int(alert.find_element(By.TAG_NAME, "progress").get_attribute("value")))
        except StaleElementReferenceException:  # the page does not re-render: a reload would be a bug
            raise AssertionError("the progress alert was replaced") from None
        if not seen or seen[-1] != state:
            seen.append(state)
        time.sleep(0.05)

    assert [percent for status, percent in seen if status == "running" and 0 < percent < 100], \
        f"the progress did not move: {seen}"
    assert seen[-1] == ("finished", 100)
    assert alert.find_element(By.CSS_SELECTOR, "[data-rqledger-progress]").text == "100%"
    assert alert.find_element(By.CSS_SELECTOR, "[data-rqledger-status-text]").text == "finished"
    assert alert.find_element(By.CLASS_NAME, "done").is_displayed()
    row = browser.find_element(By.CSS_SELECTOR, f'#tasks tr[data-rqledger-task="{task_id}"]')
    assert row.find_element(By.CSS_SELECTOR, "[data-rqledger-status-text]").text == "finished"
    save_screenshot(browser, tmp_path, "flask-example-export-finished.png")
    assert list(outbox.glob("*.eml")), "the worker mailed nothing"
