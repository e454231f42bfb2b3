"""DNS rebinding: a page on another name that resolves to this machine is refused by its Host header (400).

The page rebind.evil.example makes its name resolve to 127.0.0.1; the browser then sends
its requests to the dashboard with `Host: rebind.evil.example:8000` and a matching Origin,
so the cross-site check sees nothing wrong. Only the Host tells, and it is not one this
server answers to. Without a token configured, such a request would otherwise run.
"""

from __future__ import annotations

import pytest

from rqledger.entrypoints.web import create_app
from rqledger.entrypoints.web.hosts import BOUND_KEY, HostAllowList, parse_host

REBOUND = {"Host": "rebind.evil.example:8000", "Origin": "http://rebind.evil.example:8000"}


def bound_app(container, host: str = "127.0.0.1", port: int = 8000):
    """An app as `rqledger web --host HOST --port PORT` builds it."""
    return create_app(container, TESTING=True, **{BOUND_KEY: (host, port)}).test_client()


def refused(response) -> str:
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    return error["message"]


def test_a_rebound_post_is_refused_and_runs_nothing(api):
    client, container = api
    response = bound_app(container).post("/api/tasks", json={"name": "api_echo", "args": [1]}, headers=REBOUND)
    message = refused(response)
    assert "rebind.evil.example:8000" in message and "RQLEDGER_ALLOWED_HOSTS" in message
    assert client.get("/api/tasks").get_json()["items"] == []


@pytest.mark.parametrize("method, path", [("get", "/api/tasks"), ("get", "/"), ("get", "/openapi.json"),
                                          ("post", "/api/tasks/1/cancel"), ("delete", "/api/schedules/1"),
                                          ("get", "/api/health"), ("get", "/nothing-here")])
def test_a_rebound_host_can_neither_read_nor_write(api, method, path):
    _, container = api
    refused(getattr(bound_app(container), method)(path, headers=REBOUND))


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST:8000",
                                  "localhost.:8000"])
def test_the_loopback_names_with_the_bound_port_are_answered(api, host):
    _, container = api
    response = bound_app(container).post("/api/tasks", json={"name": "api_echo", "args": [1]},
                                         headers={"Host": host, "Origin": f"http://{host}"})
    assert response.status_code == 202, response.get_json()


@pytest.mark.parametrize("host", ["localhost:9000", "localhost", "127.0.0.2:8000", "evil.example",
                                  "localhost:8000@evil.example", "[::1", "localhost:99999", "localhost:80x"])
def test_another_port_or_name_is_refused(api, host):
    _, container = api
    refused(bound_app(container).get("/api/tasks", headers={"Host": host}))


def test_the_bound_address_is_answered_too(api):
    _, container = api
    client = bound_app(container, host="192.0.2.10", port=8080)
    assert client.get("/api/tasks", headers={"Host": "192.0.2.10:8080"}).status_code == 200
    assert client.get("/api/tasks", headers={"Host": "localhost:8080"}).status_code == 200
    refused(client.get("/api/tasks", headers={"Host": "192.0.2.10:8000"}))


def test_on_port_80_a_host_without_a_port_is_the_same(api):
    _, container = api
    client = bound_app(container, port=80)
    assert client.get("/api/tasks", headers={"Host": "localhost"}).status_code == 200
    assert client.get("/api/tasks", headers={"Host": "localhost:80"}).status_code == 200


def test_names_in_the_allow_list_are_answered(make_api):
    _, container = make_api(RQLEDGER_ALLOWED_HOSTS="rqledger.example.com, .corp.example, ops.example:8443")
    client = bound_app(container, host="0.0.0.0")
    for host in ("rqledger.example.com", "rqledger.example.com:443", "corp.example", "a.b.corp.example:8000",
                 "ops.example:8443", "localhost:8000"):
        assert client.get("/api/tasks", headers={"Host": host}).status_code == 200, host
    for host in ("rebind.evil.example:8000", "ops.example:8000", "xcorp.example", "rqledger.example.com.evil"):
        refused(client.get("/api/tasks", headers={"Host": host}))


def test_a_star_answers_every_host(make_api):
    _, container = make_api(RQLEDGER_ALLOWED_HOSTS="*")
    assert bound_app(container).get("/api/tasks", headers=REBOUND).status_code == 200


def test_bound_to_every_address_without_an_allow_list_nothing_is_refused_by_host(api):
    # its public names are unknown; `rqledger web` logs a warning at start (tests/api/test_web_command.py)
    _, container = api
    assert HostAllowList.build([], ("0.0.0.0", 8000)).open and HostAllowList.build(None, ("::", 8000)).open
    assert bound_app(container, host="0.0.0.0").get("/api/tasks", headers=REBOUND).status_code == 200


def test_an_app_not_told_its_address_answers_the_loopback_names_on_any_port(api):
    client, _ = api  # Flask's test client sends Host: localhost
    assert client.get("/api/tasks").status_code == 200
    assert client.get("/api/tasks", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    refused(client.get("/api/tasks", headers=REBOUND))


def test_a_bad_allow_list_entry_is_refused_when_the_app_is_built(make_api):
    with pytest.raises(ValueError, match="RQLEDGER_ALLOWED_HOSTS.*exa mple"):
        make_api(RQLEDGER_ALLOWED_HOSTS="ok.example,exa mple")


@pytest.mark.parametrize("text, parsed", [
    ("Example.COM", ("example.com", None)), ("example.com.:81", ("example.com", 81)), ("[::1]:8000", ("[::1]", 8000)),
    ("[::1]", ("[::1]", None)), ("a:b", None), ("", None), (":80", None), ("a b", None), ("[::1]x", None),
])
def test_host_headers_are_read_as_name_and_port(text, parsed):
    assert parse_host(text) == parsed
