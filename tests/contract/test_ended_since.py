"""TaskRepository.ended_since, the overview charts' one read: the same rows on every implementation."""

from rqledger.domain.task import TaskStatus
from tests.contract.builders import a_task, later


def stored(new_uow, *tasks) -> list[int]:
    uow = new_uow()
    with uow:
        ids = [uow.tasks.add(task).id for task in tasks]
        uow.commit()
    return ids


def ended(status: TaskStatus, at: float, owner: str = "alice", started: float | None = None):
    return a_task(status=status, owner=owner, ended_at=later(at),
                  started_at=None if started is None else later(started))


def read(new_uow, since: float, limit: int = 100, owner=None):
    uow = new_uow()
    with uow:
        return uow.tasks.ended_since(later(since), limit, owner)


def test_ended_tasks_from_since_on_come_newest_first_with_their_times(new_uow):
    stored(new_uow, ended(TaskStatus.FINISHED, 10, started=7.5), ended(TaskStatus.FAILED, 30, started=29),
           ended(TaskStatus.CANCELED, 20), ended(TaskStatus.FINISHED, 5))
    rows = read(new_uow, since=10)
    assert [(r.status, r.ended_at) for r in rows] == [
        (TaskStatus.FAILED, later(30)), (TaskStatus.CANCELED, later(20)), (TaskStatus.FINISHED, later(10))]
    assert [r.started_at for r in rows] == [later(29), None, later(7.5)]
    assert {r.name for r in rows} == {"export"}


def test_only_ended_tasks_count_even_with_an_end_time_left_from_an_earlier_attempt(new_uow):
    stored(new_uow, ended(TaskStatus.QUEUED, 10), ended(TaskStatus.RUNNING, 11), ended(TaskStatus.FINISHED, 12),
           a_task(status=TaskStatus.QUEUED))
    assert [r.status for r in read(new_uow, since=0)] == [TaskStatus.FINISHED]


def test_the_limit_keeps_the_newest_and_the_owner_keeps_theirs(new_uow):
    stored(new_uow, *(ended(TaskStatus.FINISHED, n, owner="alice" if n % 2 else "bob") for n in range(1, 8)))
    assert [r.ended_at for r in read(new_uow, since=0, limit=3)] == [later(7), later(6), later(5)]
    assert [r.ended_at for r in read(new_uow, since=0, owner="bob")] == [later(6), later(4), later(2)]
    assert read(new_uow, since=0, owner="carol") == []
