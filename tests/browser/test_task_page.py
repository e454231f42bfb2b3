"""One task's page in headless Chromium: reached from the overview's row, it follows the task live (progress,
then the finished status and the result) without a reload, and the page logs no console error."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import save_screenshot
from tests.browser.test_dashboard import click, enqueue_through_the_form, progress_until, text_of, wait

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]


def test_a_tasks_page_follows_it_live_to_its_result(browser, service, tmp_path):
    web = service()
    browser.get(web.url + "/")
    wait(browser).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class").split())
    task_id = enqueue_through_the_form(browser, "api_steps", steps="6", pause="0.5")
    click(browser, f'[data-task-row="{task_id}"] td.id a')
    wait(browser).until(lambda d: d.current_url == f"{web.url}/tasks/{task_id}")
    wait(browser).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class").split())
    browser.execute_script("window.__notReloaded = true;")

    seen = progress_until(browser, task_id, lambda d: 'data-status="finished"' in d.find_element(
        By.ID, "section-task").get_attribute("innerHTML"))
    assert [v for v in seen if 0 < v < 100], f"the bar did not move: {seen}"
    assert browser.execute_script("return window.__notReloaded === true;"), "the page was reloaded"
    assert '"steps": 6' in text_of(browser, f"#result-{task_id}")
    assert "Attempts" in browser.find_element(By.ID, "section-task").text
    save_screenshot(browser, tmp_path, "task-page.png")
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors
