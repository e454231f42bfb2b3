"""`rqledger web` as a user starts it: waitress on --host/--port, a clear one-line error when it cannot listen."""

from __future__ import annotations

import os
import socket
import subprocess
import urllib.request

import pytest

from tests.api.processes import ROOT, rqledger_command

pytestmark = pytest.mark.e2e


def test_it_serves_the_api_and_dashboard_with_waitress(start_web, database_url):
    web = start_web({**os.environ, "DATABASE_URL": database_url, "RQLEDGER_QUEUE_BACKEND": "memory",
                     "PYTHONPATH": str(ROOT)})
    with urllib.request.urlopen(web.url + "/api/health", timeout=5) as response:
        assert response.status == 200 and response.headers["Server"] == "rqledger"
    with urllib.request.urlopen(web.url + "/", timeout=5) as response:
        assert b"<title>rqledger</title>" in response.read()
    assert "dashboard at http://127.0.0.1:" in web.output and "Traceback" not in web.output


def test_a_port_in_use_is_one_clear_line_and_a_non_zero_exit(database_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*rqledger_command(), "web", "--port", str(port)], cwd=ROOT, capture_output=True,
                                text=True, timeout=60,
                                env={**os.environ, "DATABASE_URL": database_url,
                                     "RQLEDGER_QUEUE_BACKEND": "memory"})
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def test_bound_to_every_address_without_allowed_hosts_it_warns_that_host_names_are_not_checked(database_url):
    # the port is taken, so nothing ever listens on every address: the warning comes before the bind
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        port = taken.getsockname()[1]
        result = subprocess.run([*rqledger_command(), "web", "--host", "0.0.0.0", "--port", str(port)], cwd=ROOT,
                                capture_output=True, text=True, timeout=60,
                                env={**os.environ, "DATABASE_URL": database_url, "RQLEDGER_QUEUE_BACKEND": "memory",
                                     "RQLEDGER_ALLOWED_HOSTS": ""})
    assert f"cannot listen on 0.0.0.0:{port}" in result.stderr
    assert "WARNING" in result.stderr and "RQLEDGER_ALLOWED_HOSTS" in result.stderr and "DNS rebinding" in result.stderr


def test_a_bad_allowed_hosts_entry_is_one_clear_line(database_url):
    result = subprocess.run([*rqledger_command(), "web", "--port", "1"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "DATABASE_URL": database_url,
                                             "RQLEDGER_QUEUE_BACKEND": "memory", "RQLEDGER_ALLOWED_HOSTS": "a b"})
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "RQLEDGER_ALLOWED_HOSTS: not a host name or host:port: a b" in result.stderr
