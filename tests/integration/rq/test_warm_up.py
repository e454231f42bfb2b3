"""The worker parent warms the ledger before forking: nothing stays behind, and work-horses still connect afresh."""

import multiprocessing

import pytest

from rqledger.application.ports import TaskQuery
from rqledger.domain.task import Task
from rqledger.entrypoints.worker import warm_up_ledger


def _add_one(uow) -> None:
    with uow:
        uow.tasks.add(Task(name="from-the-child"))
        uow.commit()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_the_warm_up_leaves_no_row_and_a_forked_child_still_writes(ledger):
    uow = ledger.uow()
    with uow:
        uow.tasks.add(Task(name="kept"))
        uow.commit()
    warm_up_ledger(ledger)  # the parent's pool now holds the connection it warmed up on
    child = multiprocessing.get_context("fork").Process(target=_add_one, args=(uow,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    with uow:
        tasks = uow.tasks.list(TaskQuery(limit=100)).items
    assert sorted(t.name for t in tasks) == ["from-the-child", "kept"]
    assert all(t.version == 0 and t.attempts == 0 for t in tasks)
