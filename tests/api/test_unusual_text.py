"""Anything POST /api/tasks accepts can be stored, on SQLite, PostgreSQL and MariaDB: a NUL (\\u0000) in arguments,
in a result and in a failure's message ends the task (finished or failed), with its text readable."""

from __future__ import annotations

import pytest

NUL = "a\x00b"


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def database_url(request, tmp_path):
    from rqledger.adapters.sqlalchemy import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue(f"{request.param}_url")
    upgrade(url)
    return url


def test_nul_in_arguments_results_and_failures_ends_every_task(client, work):
    echoed = client.post("/api/tasks", json={"name": "api_echo", "args": [1], "kwargs": {"label": NUL,
                                                                                        "items": [NUL]}})
    raised = client.post("/api/tasks", json={"name": "api_fail", "args": [NUL]})
    assert (echoed.status_code, raised.status_code) == (202, 202)

    work()

    done = client.get(f"/api/tasks/{echoed.get_json()['id']}").get_json()
    assert done["status"] == "finished"
    assert done["kwargs"] == {"label": NUL, "items": [NUL]}  # arguments and results are JSON: exact
    assert (done["result"]["label"], done["result"]["items"]) == (NUL, [NUL])
    failed = client.get(f"/api/tasks/{raised.get_json()['id']}").get_json()
    assert failed["status"] == "failed" and failed["args"] == [NUL]
    assert "ValueError: a\\x00b" in failed["log"]  # log text: NUL written as Python's repr writes it
    assert failed["history"][-1]["error"].startswith("ValueError: a\\x00b")
    listed = client.get("/api/tasks?status=failed,finished").get_json()["items"]
    assert {task["status"] for task in listed} == {"failed", "finished"}
