"""The /queues page in headless Chromium with a real worker: Pause holds a task the form enqueues (the task's
row says paused), Resume lets it run; the page follows without a reload and logs no console error."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import save_screenshot
from tests.browser.test_dashboard import click, enqueue_through_the_form, wait

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]


def test_pause_holds_a_queues_tasks_and_resume_lets_them_run(browser, service, tmp_path):
    web = service()
    browser.get(web.url + "/queues")
    wait(browser).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class").split())
    click(browser, '[data-action="pause-queue"][data-id="default"]')
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-queue-row="default"][data-paused="true"]'))
    save_screenshot(browser, tmp_path, "queues-paused.png")

    browser.get(web.url + "/")
    task_id = enqueue_through_the_form(browser, "api_echo", count="3")
    row = f'[data-task-row="{task_id}"]'
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"{row} .badge.paused"))
    browser.get(web.url + f"/tasks/{task_id}")
    wait(browser).until(lambda d: "is paused" in d.find_element(By.ID, f"waiting-{task_id}").text)

    browser.get(web.url + "/queues")
    wait(browser).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class").split())
    click(browser, '[data-action="resume-queue"][data-id="default"]')
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-queue-row="default"][data-paused="false"]'))
    browser.get(web.url + f"/tasks/{task_id}")
    wait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-task-row][data-status="finished"]'))
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors
