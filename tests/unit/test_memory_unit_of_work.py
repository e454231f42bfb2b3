"""The memory unit of work behaves like a database: copies in and out, commit or nothing, compare-and-set."""

import pytest

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from domain.errors import ConcurrentUpdate, TaskNotFound
from domain.task import Task, TaskStatus
from datetime import datetime, timezone

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def store():
    return InMemoryStore()


def add_task(store) -> int:
    uow = InMemoryUnitOfWork(store)
    with uow:
        task = uow.tasks.add(Task(name="t"))
        uow.commit()
    return task.id


def test_a_change_without_save_is_lost(store):
    task_id = add_task(store)
    uow = InMemoryUnitOfWork(store)
    with uow:
        uow.tasks.get(task_id).start("w", NOW)
        uow.commit()
    with uow:
        assert uow.tasks.get(task_id).status is TaskStatus.QUEUED


def test_nothing_lands_without_commit(store):
    uow = InMemoryUnitOfWork(store)
    with uow:
        uow.tasks.add(Task(name="t"))
    assert store.tasks == {}


def test_two_writers_on_one_row_cannot_both_win(store):
    task_id = add_task(store)
    worker, user = InMemoryUnitOfWork(store), InMemoryUnitOfWork(store)
    with worker, user:
        running = worker.tasks.get(task_id)
        canceled = user.tasks.get(task_id)
        running.start("w", NOW)
        canceled.cancel(NOW)
        worker.tasks.save(running)
        worker.commit()
        with pytest.raises(ConcurrentUpdate, match=f"task {task_id} cannot go from running to canceled"):
            user.tasks.save(canceled)
    with worker:
        assert worker.tasks.get(task_id).status is TaskStatus.RUNNING


def test_a_missing_task_is_named(store):
    uow = InMemoryUnitOfWork(store)
    with uow, pytest.raises(TaskNotFound, match="task 99 does not exist"):
        uow.tasks.get(99)


def test_the_unit_of_work_is_used_inside_with():
    with pytest.raises(RuntimeError, match="inside `with uow:`"):
        InMemoryUnitOfWork().tasks.get(1)
