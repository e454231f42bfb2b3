"""Text no database holds as it is (NUL: PostgreSQL refuses it in text) through real `rqledger worker` processes,
on SQLite, PostgreSQL and MariaDB: every such task ends, its arguments and result exact, its log readable."""

from __future__ import annotations

import pytest

from rqledger.application.tasks import TaskRequest
from rqledger.domain.task import TaskStatus

pytestmark = pytest.mark.integration

NUL = "a\x00b"


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql", "mysql"], indirect=True)
def test_nul_in_arguments_results_and_failures_ends_every_task(ledger, start_worker):
    enqueue = ledger.enqueue_task()
    greeted = enqueue(TaskRequest("greet", [NUL]))            # NUL in its args and in its result
    exploded = enqueue(TaskRequest("explode", [], {"message": NUL}))  # NUL in its kwargs and its error

    assert start_worker("--burst").wait(60) == 0

    done = ledger.get_task()(greeted.id)
    assert done.status is TaskStatus.FINISHED
    assert done.args == [NUL] and done.result["greeting"] == f"안녕하세요, {NUL}!"  # JSON: exact
    failed = ledger.get_task()(exploded.id)
    assert failed.status is TaskStatus.FAILED and failed.kwargs == {"message": NUL}
    assert "ValueError: boom: a\\x00b" in failed.log  # log text: NUL written as Python's repr writes it
    assert "Traceback (most recent call last)" in failed.log
    assert failed.history[-1].error.startswith("ValueError: boom: a\\x00b")
