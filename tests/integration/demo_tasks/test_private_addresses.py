"""count_words and fetch_rss refuse loopback, link-local and private addresses unless RQLEDGER_FETCH_ALLOW_PRIVATE
is on: checked after DNS resolution, on every redirect, and the connection goes to the address that was checked."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rqledger.adapters.memory import InMemoryWorker
from rqledger.application.tasks import TaskRequest
from rqledger.demo import count_words, fetch_rss, fetching
from rqledger.demo.fetching import AddressRefused, fetch
from rqledger.domain.task import TaskStatus
from rqledger.entrypoints.settings import load_settings

OFF = "fetching loopback, link-local and private addresses is off (RQLEDGER_FETCH_ALLOW_PRIVATE=1 turns it on)"


@pytest.fixture
def service_env(service_env):
    """The service as configured by default: private addresses refused."""
    return {k: v for k, v in service_env.items() if k != "RQLEDGER_FETCH_ALLOW_PRIVATE"}


@pytest.fixture
def serve():
    """Starts tiny servers at a host: each answers every GET with `answer(handler)`; stopped at teardown."""
    servers = []

    def start(host: str, answer) -> tuple[str, list[str]]:
        seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(self.path)
                answer(self)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer((host, 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://{host}:{server.server_address[1]}", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_setting_is_off_unless_turned_on():
    assert load_settings({})["fetch_allow_private"] is False
    assert load_settings({"RQLEDGER_FETCH_ALLOW_PRIVATE": "1"})["fetch_allow_private"] is True


def test_the_services_own_api_on_loopback_is_not_fetched(site):
    url = site.page("/api/tasks", '{"items": [{"id": 1, "owner": "someone else"}]}', "application/json")
    refusal = f"could not fetch {url}: 127.0.0.1 is a loopback address; {OFF}"
    with pytest.raises(AddressRefused, match=re.escape(refusal)):
        count_words(url=url)
    with pytest.raises(AddressRefused, match="127.0.0.1 is a loopback address"):
        fetch_rss(url)


def test_a_host_name_is_judged_by_the_addresses_it_resolves_to(site):
    url = site.page("/words.txt", "one two").replace("127.0.0.1", "localhost")
    with pytest.raises(AddressRefused, match=r"localhost resolves to (127\.0\.0\.1|::1), a loopback address"):
        count_words(url=url)


@pytest.mark.parametrize("address, kind", [("169.254.169.254", "link-local"), ("10.0.0.1", "private"),
                                           ("192.168.1.1", "private"), ("172.16.0.1", "private"),
                                           ("0.0.0.0", "unspecified"), ("[::1]", "loopback"),
                                           ("[::ffff:127.0.0.1]", "loopback"), ("[fe80::1]", "link-local")])
def test_link_local_private_and_unspecified_addresses_are_refused_before_connecting(address, kind):
    with pytest.raises(AddressRefused, match=f"is a {kind} address"):
        fetch(f"http://{address}/latest/meta-data/", timeout=1)


def test_a_redirect_to_a_private_address_is_refused(serve, monkeypatch):
    inside, asked_inside = serve("127.0.0.2", lambda h: (h.send_response(200), h.end_headers()))

    def redirect(handler):
        handler.send_response(302)
        handler.send_header("Location", f"{inside}/secret")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    outside, asked_outside = serve("127.0.0.1", redirect)
    # no public server here: 127.0.0.1 plays the public one, 127.0.0.2 (loopback too) the private one
    judge = fetching.refusal
    monkeypatch.setattr(fetching, "refusal", lambda ip: None if ip == "127.0.0.1" else judge(ip))

    with pytest.raises(AddressRefused, match=f"could not fetch {outside}/start: 127.0.0.2 is a loopback address"):
        fetch(f"{outside}/start")
    assert asked_outside == ["/start"] and asked_inside == []


def test_with_the_setting_on_private_addresses_and_redirects_to_them_are_fetched(serve):
    inside, _ = serve("127.0.0.2", lambda h: (h.send_response(200), h.send_header("Content-Length", "2"),
                                             h.end_headers(), h.wfile.write(b"ok")))
    outside, _ = serve("127.0.0.1", lambda h: (h.send_response(302), h.send_header("Location", f"{inside}/x"),
                                              h.send_header("Content-Length", "0"), h.end_headers()))
    assert fetch(f"{outside}/start", allow_private=True).body == b"ok"


def test_through_the_ledger_the_task_fails_with_the_reason_in_its_log(service, site):
    url = site.page("/api/tasks", "{}", "application/json")
    task = service.enqueue_task()(TaskRequest("count_words", [], {"url": url}))
    InMemoryWorker(service.queue(), service.run_task()).work()
    failed = service.get_task()(task.id)
    assert failed.status is TaskStatus.FAILED
    assert f"AddressRefused: could not fetch {url}: 127.0.0.1 is a loopback address; {OFF}" in failed.log
