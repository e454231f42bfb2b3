"""RQLEDGER_DURABILITY=fast: a real `rqledger worker` writes outcomes behind its jobs, several per commit.

Every row must still reach its true outcome, and an attempt retried at once must not find its row
still running (its outcome waiting in the write-behind) and be refused.
"""

from __future__ import annotations

import pytest

from rqledger.application.tasks import TaskRequest
from rqledger.domain.task import TaskStatus

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger_env(ledger_env):
    return {**ledger_env, "RQLEDGER_DURABILITY": "fast"}


@pytest.mark.parametrize("database_url, worker_args", [("sqlite", ()), ("postgresql", ()), ("postgresql", ("--simple",))],
                         indirect=["database_url"], ids=["sqlite", "postgresql", "postgresql-simple"])
def test_every_outcome_lands_and_an_immediate_retry_runs(ledger, start_worker, worker_args, tmp_path):
    enqueue = ledger.enqueue_task()
    greetings = enqueue.many([TaskRequest("greet", [f"n{i}"]) for i in range(30)])
    broken = enqueue(TaskRequest("explode", ["kaboom"]))
    retried = enqueue(TaskRequest("flaky_now", [str(tmp_path / "marker")]))

    worker = start_worker("--burst", *worker_args)
    assert worker.wait(90) == 0, worker.output

    rows = {task.id: ledger.get_task()(task.id) for task in [*greetings, broken, retried]}
    assert all(rows[t.id].status is TaskStatus.FINISHED and rows[t.id].result == {
        "greeting": f"안녕하세요, n{i}!", "한글": "데이터"} for i, t in enumerate(greetings))
    assert rows[broken.id].status is TaskStatus.FAILED and "boom: kaboom" in rows[broken.id].log
    again = rows[retried.id]
    assert (again.status, again.attempts, again.result) == (TaskStatus.FINISHED, 2, {"attempt": "second"})
    assert "refused" not in again.log
