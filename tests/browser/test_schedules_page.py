"""The schedules page's form in headless Chromium, on a real `rqledger web` + worker: a schedule made with it
appears in the list without a reload, as the API stored it; one the API refuses (a bad cron) shows the API's own
message in place; the page fits a phone's width."""

from __future__ import annotations

import json
import urllib.error

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import save_screenshot
from tests.browser.test_dashboard import click, text_of, wait
from tests.browser.test_list_page import api, fits, live

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]

KWARGS = {"count": 7, "label": "<b>from the form</b>"}


def refusal(web, body: dict) -> tuple[int, str]:
    """The API's answer to a schedule it refuses: (status, message)."""
    try:
        api(web, "POST", "/api/schedules", body)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())["error"]["message"]
    raise AssertionError(f"the API took {body}")


def fill(browser, element_id: str, text: str) -> None:
    field = browser.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def schedule_rows(browser) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-schedule-row]'), r => r.dataset.scheduleRow);")


def test_the_form_creates_a_schedule_and_shows_the_api_s_refusal_in_place(browser, service, tmp_path):
    web = service()
    browser.set_window_size(1400, 1000)
    browser.get(web.url + "/schedules")
    live(browser)
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#schedule-type option[value="api_echo"]'))
    browser.execute_script("window.__notReloaded = true;")
    Select(browser.find_element(By.ID, "schedule-type")).select_by_value("api_echo")
    fill(browser, "schedule-kwargs", json.dumps(KWARGS))
    click(browser, 'input[name="timing"][value="cron"]')
    assert browser.find_element(By.ID, "schedule-cron").is_displayed()
    assert not browser.find_element(By.ID, "schedule-at").is_displayed()
    fill(browser, "schedule-cron", "61 * * * *")
    fill(browser, "schedule-timezone", "Europe/Paris")
    click(browser, "#schedule-submit")

    status, message = refusal(web, {"name": "api_echo", "args": [], "kwargs": KWARGS, "catch_up": "latest",
                                    "cron": "61 * * * *", "timezone": "Europe/Paris"})
    assert status == 422 and "61 * * * *" in message
    wait(browser).until(lambda d: d.find_element(By.ID, "schedule-error").is_displayed())
    assert text_of(browser, "#schedule-error") == message
    assert api(web, "GET", "/api/schedules")["items"] == [] and schedule_rows(browser) == []

    fill(browser, "schedule-cron", "*/5 * * * *")
    Select(browser.find_element(By.ID, "schedule-catch-up")).select_by_value("skip")
    click(browser, "#schedule-submit")
    wait(browser, 20).until(lambda d: len(schedule_rows(d)) == 1)
    [stored] = api(web, "GET", "/api/schedules")["items"]
    assert (stored["name"], stored["args"], stored["kwargs"]) == ("api_echo", [], KWARGS)
    assert (stored["cron"], stored["timezone"], stored["catch_up"]) == ("*/5 * * * *", "Europe/Paris", "skip")
    row = text_of(browser, f'[data-schedule-row="{stored["id"]}"]')
    assert "every 5 min (Europe/Paris)" in row and "<b>from the form</b>" in row  # escaped: shown as typed
    assert not browser.find_element(By.ID, "schedule-error").is_displayed()

    # every N seconds, from now (the "at" left empty)
    click(browser, 'input[name="timing"][value="every"]')
    fill(browser, "schedule-kwargs", '{"count": 8}')
    fill(browser, "schedule-interval", "3600")
    click(browser, "#schedule-submit")
    wait(browser, 20).until(lambda d: len(schedule_rows(d)) == 2)
    newest = api(web, "GET", "/api/schedules")["items"][0]
    assert (newest["kwargs"], newest["interval"], newest["cron"], newest["at"] is not None) == (
        {"count": 8}, 3600, None, True)
    assert browser.execute_script("return window.__notReloaded === true;"), "the page was reloaded"
    # the browser logs the refused call's 422 itself (a network entry): that one and nothing else
    logged = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert len(logged) == 1 and "/api/schedules" in logged[0] and "422" in logged[0], logged

    browser.set_window_size(420, 900)
    browser.get(web.url + "/schedules")
    live(browser)
    fits(browser)
    save_screenshot(browser, tmp_path, "schedules-form-420.png")
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
