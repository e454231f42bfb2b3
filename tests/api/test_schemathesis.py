"""Schemathesis against a real `rqledger web` (with a worker): no 5xx, and nothing that contradicts /openapi.json.

It runs schemathesis' own CLI (examples, coverage, fuzzing and stateful phases,
every check) with a fixed seed, so a failure reproduces, twice: on an open
service (no token: the document asks for no auth) and with a token. Bounded:
a fixed number of examples per operation and a deadline for each run, about
20 s each. One allowance: a body can fit the schema and still be refused with
422, because whether arguments fit a task function is checked against its
signature, and whether a cron expression names real times against a calendar,
which the document cannot express (see `positive_data_acceptance` below); and a
task listing's `since` may not come after its `until` (two parameters).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.processes import Process

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

TOKEN = "schemathesis-token"
SEED = 20260101
MAX_EXAMPLES = 25
DEADLINE = 120  # seconds for one run; it takes about 20

CONFIG = f"""
seed = {SEED}
max-failures = 20

[generation]
max-examples = {MAX_EXAMPLES}
database = "none"

[[operations]]
include-name-regex = "^POST /api/(tasks|tasks/batch|schedules)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "409", "422"]

[[operations]]
include-name-regex = "^GET /api/tasks$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "422"]
"""


def schemathesis_command() -> list[str]:
    script = Path(sys.executable).with_name("schemathesis")
    return [str(script)] if script.exists() else [shutil.which("schemathesis") or "schemathesis"]


@pytest.mark.parametrize("token", [None, TOKEN], ids=["open", "with-a-token"])
def test_schemathesis_finds_no_server_error_and_no_contradiction(start_web, service_environment, tmp_path, token):
    env = {**service_environment, **({"RQLEDGER_API_TOKEN": token} if token else {})}
    web = start_web(env)
    worker = Process(["worker"], env, tmp_path / "worker.log")
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    auth = ["--header", f"Authorization: Bearer {token}"] if token else []
    try:
        result = subprocess.run(
            [*schemathesis_command(), "--no-color", "--config-file", str(config), "run",
             f"{web.url}/openapi.json", *auth,
             "--exclude-path", "/api/events",  # an endless stream: covered by test_events.py
             "--checks", "all", "--request-timeout", "10"],
            cwd=tmp_path, capture_output=True, text=True, timeout=DEADLINE)
    finally:
        worker.stop()
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, f"schemathesis found problems:\n{report}\n--- web log ---\n{web.output[-3000:]}"
    assert "Traceback" not in web.output, web.output[-3000:]
    assert "unexpected error" not in web.output
    print("\n".join(line for line in result.stdout.splitlines() if "generated" in line or "passed" in line))
