"""Headless Chromium (Debian's chromium + chromium-driver) driven by selenium, on a real web + worker."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.api.conftest import database_url, start_web  # noqa: F401  (shared fixtures)
from tests.api.processes import ROOT, Process, service_env
from tests.services import unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--window-size=1440,1000"]

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        unavailable("Chromium", f"{CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console messages, for driver.get_log
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


@pytest.fixture
def service(database_url, redis_url, start_web, tmp_path):  # noqa: F811
    """Starts `rqledger web` (+ a worker) on this test's ledger and Redis; returns (web, environment)."""
    workers: list[Process] = []

    def start(**extra: str):
        env = service_env(database_url, redis_url, **extra)
        web = start_web(env)
        workers.append(Process(["worker", "--without-scheduler"], env, tmp_path / f"worker-{len(workers)}.log"))
        return web

    yield start
    for worker in workers:
        worker.stop()


def save_screenshot(driver, tmp_path: Path, name: str) -> Path:
    """Into the test's own folder, and a copy in test-output/ at the repository root (git-ignored)."""
    path = tmp_path / name
    assert driver.save_screenshot(str(path)), "the screenshot was not written"
    copies = ROOT / "test-output"
    copies.mkdir(exist_ok=True)
    shutil.copy(path, copies / name)
    return path
