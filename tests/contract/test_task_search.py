"""The task list's queue filter, created-time range and text search: the same answers on every implementation."""

from datetime import timedelta

import pytest

from rqledger.application.ports import TaskQuery
from rqledger.domain.task import Task
from tests.contract.builders import NOW, a_task, later


def stored(new_uow, *tasks: Task) -> list[int]:
    uow = new_uow()
    with uow:
        added = [uow.tasks.add(task).id for task in tasks]
        uow.commit()
    return added


def listed(new_uow, **filters) -> list[int]:
    uow = new_uow()
    with uow:
        return [task.id for task in uow.tasks.list(TaskQuery(**filters)).items]


def plain(name: str = "export", **fields) -> Task:
    """A task whose searchable text holds no digits (the contract's default task has some in its arguments)."""
    return a_task(name, **{"args": [], "kwargs": {}, "description": "", "owner": "alice", **fields})


def ended(task: Task, result: dict | None = None, error: str | None = None) -> Task:
    task.start("worker-x", later(1))
    if error is None:
        task.finish(result, later(2))
    else:
        task.fail(error, later(2))
    return task


def test_the_queue_filter_lists_only_that_queue(new_uow):
    default, slow, _ = stored(new_uow, plain(queue="default"), plain(queue="slow"), plain(queue="slower"))
    assert listed(new_uow, queue="slow") == [slow]
    assert listed(new_uow, queue="default") == [default]
    assert listed(new_uow, queue="nowhere") == []


def test_the_created_range_includes_since_and_excludes_until(new_uow):
    ids = stored(new_uow, *(plain(created_at=later(minutes * 60)) for minutes in range(4)))
    assert listed(new_uow, created_since=later(60)) == ids[1:][::-1]
    assert listed(new_uow, created_until=later(120)) == ids[:2][::-1]
    assert listed(new_uow, created_since=later(60), created_until=later(180)) == [ids[2], ids[1]]
    assert listed(new_uow, created_since=later(60), created_until=later(60)) == []
    assert listed(new_uow, created_since=NOW - timedelta(days=1), created_until=NOW) == []


@pytest.mark.parametrize("text", ["EXPORT_users", "Needle", "needle", "NEEDLE"])
def test_text_is_found_in_any_case(new_uow, text):
    _, wanted = stored(new_uow, plain("other"), plain("export_users", description="a needle in it"))
    assert listed(new_uow, text=text) == [wanted]


def test_text_is_found_in_the_arguments_result_description_and_log(new_uow):
    ids = stored(
        new_uow,
        plain(args=["Apple pie"]),
        plain(kwargs={"fruit": "BANANA split"}),
        ended(plain(), result={"made": "cherry tart"}),
        plain(description="about a Damson"),
        ended(plain(), error="ValueError: no elderberry left"),
        plain(),
    )
    for index, text in enumerate(["apple", "banana", "Cherry", "damson", "ELDERBERRY"]):
        assert listed(new_uow, text=text) == [ids[index]], text


def test_text_matches_the_json_the_ledger_keeps(new_uow):
    wanted, _ = stored(new_uow, plain(kwargs={"user": "한글데이터", "n": 7}), plain(kwargs={"user": "x"}))
    assert listed(new_uow, text='"n":7') == [wanted]
    assert listed(new_uow, text="한글") == [wanted]


def test_a_number_finds_that_task_by_its_id_and_no_longer_one(new_uow):
    ids = stored(new_uow, *(plain() for _ in range(12)))
    assert listed(new_uow, text="1") == [ids[0]]  # not task 10, 11 or 12: an id is matched whole
    assert listed(new_uow, text=" 12 ") == [ids[11]]
    assert listed(new_uow, text="99") == []


def test_a_number_is_an_id_while_text_around_it_searches_for_it(new_uow):
    first, second = stored(new_uow, plain(), plain(kwargs={"order": 1}))
    assert listed(new_uow, text="1") == [first]
    assert listed(new_uow, text=":1") == [second]


def test_like_wildcards_are_plain_characters_in_a_search(new_uow):
    percent, underscore, _ = stored(new_uow, plain(description="100% done"), plain(description="a_b"),
                                    plain(description="axb and 100 done"))
    assert listed(new_uow, text="0% d") == [percent]
    assert listed(new_uow, text="a_b") == [underscore]
    assert listed(new_uow, text="/") == []


def test_the_search_keeps_the_other_filters_the_owner_and_the_pages(new_uow):
    ids = stored(new_uow, *(plain(owner="alice" if n % 2 else "bob", description=f"report {'x' * n}")
                           for n in range(7)))
    alices = [i for n, i in enumerate(ids) if n % 2][::-1]
    uow = new_uow()
    with uow:
        first = uow.tasks.list(TaskQuery(text="REPORT", owner="alice", limit=2))
        second = uow.tasks.list(TaskQuery(text="REPORT", owner="alice", limit=2, before_id=first.next_cursor))
    assert [t.id for t in first.items] + [t.id for t in second.items] == alices
    assert second.next_cursor is None
    assert listed(new_uow, text="report", owner="carol") == []
    assert listed(new_uow, text=str(ids[0]), owner="alice") == []  # bob's id, asked as alice
