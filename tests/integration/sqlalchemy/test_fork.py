"""RQ forks a work-horse per job: a forked child must not share its parent's database connections."""

import multiprocessing

from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from rqledger.application.ports import TaskQuery
from rqledger.domain.task import Task

ROUNDS = 100


def _add_tasks(uow, name: str) -> None:
    for _ in range(ROUNDS):
        with uow:
            uow.tasks.add(Task(name=name))
            uow.tasks.list(TaskQuery(limit=5))
            uow.commit()


def test_a_forked_child_and_its_parent_write_at_the_same_time(uow, engine):
    with uow:  # the parent's pool now holds an open connection, which the child inherits
        uow.tasks.add(Task(name="before"))
        uow.commit()
    child = multiprocessing.get_context("fork").Process(target=_add_tasks, args=(uow, "child"))
    child.start()
    try:
        _add_tasks(uow, "parent")
    finally:
        child.join(timeout=120)
    assert child.exitcode == 0
    fresh = SqlAlchemyUnitOfWork(engine)
    with fresh:
        names = [t.name for t in fresh.tasks.list(TaskQuery(limit=1000)).items]
    assert (names.count("child"), names.count("parent"), names.count("before")) == (ROUNDS, ROUNDS, 1)
