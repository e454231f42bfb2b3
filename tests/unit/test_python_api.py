"""The Python API on the memory adapters (Ledger.in_memory): the same use cases, tasks run at once."""

from __future__ import annotations

import pytest

from rqledger import (DuplicateUniqueTask, InvalidArguments, Ledger, TaskNotFound, TaskStillActive, UnknownTaskType,
                      default_ledger, set_default_ledger)
from tests.unit.python_api_tasks import unit_export_posts, unit_fails_once, unit_parent


@pytest.fixture
def ledger():
    ledger = Ledger.in_memory().set_default()
    yield ledger
    set_default_ledger(None)


def test_a_task_function_enqueues_itself_on_the_default_ledger_and_runs(ledger):
    task = unit_export_posts.enqueue(42)
    assert (task.status, task.result, task.progress, task.attempts) == ("finished", {"user": 42}, 100, 1)
    assert default_ledger() is ledger


def test_using_binds_the_options_of_enqueue_and_an_integer_owner_is_stored_as_its_string(ledger):
    task = unit_export_posts.using(owner=7, description="for Ada", timeout=600).enqueue(user_id=1)
    assert (task.owner, task.description, task.timeout) == ("7", "for Ada", 600)
    assert [t.id for t in ledger.tasks(owner=7).items] == [task.id]
    assert ledger.tasks(owner="8").items == []


def test_using_refuses_an_option_enqueue_does_not_take(ledger):
    with pytest.raises(TypeError, match="not colour"):
        unit_export_posts.using(colour="red")


def test_the_task_is_still_a_plain_function():
    assert unit_export_posts(3) == {"user": 3}


def test_a_task_may_enqueue_another_and_both_run(ledger):
    parent = unit_parent.enqueue(5)
    child = ledger.get(parent.result["child"])
    assert (parent.status, child.status, child.owner) == ("finished", "finished", "5")


def test_a_retry_by_policy_runs_through_the_same_use_cases(ledger):
    task = unit_fails_once.enqueue(id(ledger))
    assert (task.status, task.result, task.attempts) == ("finished", {"result": "second time lucky"}, 2)
    assert [a.outcome for a in task.history] == ["failed", "finished"]


def test_errors_are_rqledgers_own_and_name_the_problem(ledger):
    with pytest.raises(UnknownTaskType, match="'nope'"):
        ledger.enqueue("nope")
    with pytest.raises(InvalidArguments, match="'user_id' of unit_export_posts must be an integer"):
        ledger.enqueue("unit_export_posts", args=["x"])
    with pytest.raises(InvalidArguments, match="'owner' must be a string of 1 to 200 characters or an integer"):
        ledger.enqueue("unit_export_posts", args=[1], owner=True)
    with pytest.raises(InvalidArguments, match="'retry'"):
        ledger.enqueue("unit_export_posts", args=[1], retry={"max": -1})
    with pytest.raises(TaskNotFound):
        ledger.get(999)
    assert ledger.tasks().items == []


def test_a_unique_type_appears_once_per_owner_in_a_batch_or_the_batch_is_refused_whole(ledger):
    with pytest.raises(DuplicateUniqueTask, match="the batch holds it twice for owner '7'"):
        ledger.enqueue_many([{"name": "unit_export_posts", "args": [1], "owner": 7},
                             {"name": "unit_export_posts", "args": [2], "owner": "7"}])
    assert ledger.tasks().items == []
    tasks = ledger.enqueue_many([{"name": "unit_export_posts", "args": [1], "owner": 7},
                                 {"name": "unit_export_posts", "args": [2], "owner": 8}])
    assert [t.owner for t in tasks] == ["7", "8"]


def test_enqueue_many_validates_every_request_before_it_writes_any(ledger):
    with pytest.raises(InvalidArguments, match="must be an integer") as raised:
        ledger.enqueue_many([{"name": "unit_export_posts", "args": [1]}, {"name": "unit_export_posts", "args": ["x"]}])
    assert "in enqueue_many, request 1" in raised.value.__notes__
    assert ledger.tasks().items == []
    tasks = ledger.enqueue_many([{"name": "unit_export_posts", "args": [n], "owner": n} for n in (1, 2)])
    assert [t.status for t in tasks] == ["finished", "finished"]


def test_listing_is_newest_first_with_a_cursor(ledger):
    ids = [ledger.enqueue("unit_export_posts", args=[n], owner=n).id for n in range(5)]
    first = ledger.tasks(limit=2)
    second = ledger.tasks(limit=2, cursor=first.next_cursor)
    assert [t.id for t in first.items + second.items] == ids[::-1][:4]
    assert [t.id for t in ledger.tasks(status=["finished"], name="unit_export_posts", owner=3).items] == [ids[3]]
    with pytest.raises(InvalidArguments, match="status must be among"):
        ledger.tasks(status="done")


def test_cancel_retry_and_delete_follow_the_state_machine(ledger):
    task = ledger.enqueue("unit_export_posts", args=[1])
    with pytest.raises(Exception, match="finished"):
        ledger.cancel(task.id)  # it ran already
    ledger.delete(task.id)
    with pytest.raises(TaskNotFound):
        ledger.get(task.id)


def test_an_active_task_cannot_be_deleted(ledger):
    store = ledger.container.memory_store()
    task = ledger.enqueue("unit_export_posts", args=[1])
    store.tasks[task.id].status = type(task.status)("queued")  # as if a worker had not taken it yet
    with pytest.raises(TaskStillActive):
        ledger.delete(task.id)


def test_a_schedule_is_registered_through_the_same_use_case(ledger):
    schedule = ledger.schedule("unit_export_posts", kwargs={"user_id": 1}, cron="0 3 * * *")
    again = ledger.schedule("unit_export_posts", kwargs={"user_id": 1}, cron="0 4 * * *")
    assert (again.id, again.timing.cron, schedule.status.value) == (schedule.id, "0 4 * * *", "running")
    with pytest.raises(InvalidArguments, match="cron= or at="):
        ledger.schedule("unit_export_posts", kwargs={"user_id": 1})


def test_a_schedule_takes_an_owner_as_enqueue_does_and_each_owner_has_their_own(ledger):
    mine = ledger.schedule("unit_export_posts", kwargs={"user_id": 1}, cron="0 3 * * *", owner=7)
    again = ledger.schedule("unit_export_posts", kwargs={"user_id": 1}, cron="0 4 * * *", owner="7")
    theirs = ledger.schedule("unit_export_posts", kwargs={"user_id": 1}, cron="0 3 * * *", owner=8)
    assert (mine.owner, again.id, again.timing.cron) == ("7", mine.id, "0 4 * * *")
    assert theirs.owner == "8" and theirs.id != mine.id


def test_waiting_returns_an_ended_task():
    ledger = Ledger.in_memory()
    task = ledger.enqueue("unit_export_posts", args=[9])
    assert ledger.wait(task.id, timeout=1).status == "finished"


def test_enqueue_in_a_transaction_needs_the_sql_ledger(ledger):
    with pytest.raises(ValueError, match="needs the SQL ledger"):
        ledger.enqueue("unit_export_posts", args=[1], connection=object())
