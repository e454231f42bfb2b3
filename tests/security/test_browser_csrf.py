"""In a real browser (headless Chromium): a page on another site that posts to an open (token-less)
rqledger cannot cancel a task, by form or by fetch; the request is refused with 403."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api.processes import WebServer, service_env
from tests.browser.conftest import browser  # noqa: F401 (fixture)
from tests.integration.rq.processes import wait_for
from tests.services import free_port

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ATTACKS = {
    "form": '<form method="post" action="{url}"></form><script>document.forms[0].submit()</script>',
    "fetch": '<script>fetch("{url}", {{method: "POST", mode: "no-cors"}})'
             '.then(() => document.title = "sent", () => document.title = "sent")</script>',
}


@pytest.fixture
def web(api_ledger_url, redis_url, tmp_path):
    # no worker listens: an enqueued task stays queued until someone cancels it
    server = WebServer(service_env(api_ledger_url, redis_url), free_port(), tmp_path / "web.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def elsewhere(tmp_path):
    """Serves tmp_path/site on http://localhost:<port>: another site than http://127.0.0.1:<web port>."""
    (tmp_path / "site").mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "site")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path / "site", f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_page_on_another_site_cannot_cancel_a_task(web, elsewhere, browser, attack):  # noqa: F811
    import json
    import urllib.request

    request = urllib.request.Request(f"{web.url}/api/tasks", data=json.dumps({"name": "api_echo", "args": [1]}).encode(),
                                     headers={"Content-Type": "application/json"})
    task = json.load(urllib.request.urlopen(request, timeout=10))
    folder, site = elsewhere
    target = f"{web.url}/api/tasks/{task['id']}/cancel"
    (folder / "evil.html").write_text(ATTACKS[attack].format(url=target))

    browser.get(f"{site}/evil.html")
    if attack == "form":  # the browser follows the form to the answer: the refusal
        wait_for(lambda: browser.current_url == target, 10, what="the form being posted")
        assert "cross-site" in browser.page_source, browser.page_source[:500]
    else:  # an opaque answer: only its arrival is visible to the page
        wait_for(lambda: browser.title == "sent", 10, what="the fetch completing")

    status = json.load(urllib.request.urlopen(f"{web.url}/api/tasks/{task['id']}", timeout=10))["status"]
    assert status == "queued", status
