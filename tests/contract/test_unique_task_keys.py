"""Unique keys: every TaskRepository lets one queued or running task hold a unique type's key (per owner).

The key (Task.unique_key) follows the status: a task that ends frees it, a user retry takes it
again. A second holder is refused with DuplicateUniqueTask naming the first, whether it is added,
added in a batch, or saved back to queued; on SQL the unique index refuses it, in memory the
commit does.
"""

import pytest

from rqledger.application.ports import TaskQuery
from rqledger.domain.errors import DuplicateUniqueTask
from rqledger.domain.task import TaskStatus
from tests.contract.builders import NOW, a_task, add_task


def unique_task(owner="alice", **fields):
    return a_task(unique=True, owner=owner, **fields)


def add_unique(new_uow, owner="alice"):
    return add_task(new_uow, unique=True, owner=owner)


def test_the_unique_flag_round_trips_and_the_key_follows_the_status(new_uow):
    stored = add_unique(new_uow)
    uow = new_uow()
    with uow:
        task = uow.tasks.get(stored.id)
    assert task.unique is True and task.unique_key == stored.unique_key is not None
    with uow:
        assert uow.tasks.get(add_task(new_uow).id).unique is False


def test_a_second_active_task_with_the_key_is_refused_naming_the_first(new_uow):
    first = add_unique(new_uow)
    uow = new_uow()
    with pytest.raises(DuplicateUniqueTask, match=f"task {first.id} is already queued or running for owner 'alice'"):
        with uow:
            uow.tasks.add(unique_task())
            uow.commit()
    with uow:
        assert [t.id for t in uow.tasks.list(_everything()).items] == [first.id]


def test_other_owners_no_owner_and_plain_tasks_do_not_share_the_key(new_uow):
    add_unique(new_uow, owner="alice")
    add_unique(new_uow, owner="bob")
    add_unique(new_uow, owner=None)
    add_task(new_uow, owner="alice")  # not unique: holds no key
    with pytest.raises(DuplicateUniqueTask):
        add_unique(new_uow, owner=None)  # the tasks of no owner share one key of their own


def test_a_batch_holding_the_key_twice_is_refused_naming_both_items_and_writes_nothing(new_uow):
    uow = new_uow()
    with pytest.raises(DuplicateUniqueTask, match=r"the batch holds it twice for owner 'alice' \(items 0 and 2\)"):
        with uow:
            uow.tasks.add_many([unique_task(), a_task(), unique_task()])
            uow.commit()
    with uow:
        assert uow.tasks.list(_everything()).items == []


def test_a_batch_meeting_a_held_key_names_its_item_and_the_holder_and_writes_nothing(new_uow):
    holder = add_unique(new_uow, owner="bob")
    uow = new_uow()
    with pytest.raises(DuplicateUniqueTask) as refused:
        with uow:
            uow.tasks.add_many([unique_task(owner="alice"), a_task(), unique_task(owner="bob")])
            uow.commit()
    assert (refused.value.index, refused.value.existing_id, refused.value.earlier_index) == (2, holder.id, None)
    with uow:
        assert [t.id for t in uow.tasks.list(_everything()).items] == [holder.id]


@pytest.mark.parametrize("end", ["finish", "fail", "cancel"])
def test_a_task_that_ends_frees_the_key(new_uow, end):
    first = add_unique(new_uow)
    uow = new_uow()
    with uow:
        task = uow.tasks.get(first.id)
        task.start("w", NOW)
        {"finish": lambda: task.finish(None, NOW), "fail": lambda: task.fail("boom", NOW),
         "cancel": lambda: task.cancel(NOW)}[end]()
        uow.tasks.save(task)
        uow.commit()
    second = add_unique(new_uow)
    assert second.id != first.id


def test_a_requeue_for_retry_keeps_the_key(new_uow):
    first = add_task(new_uow, unique=True)  # a_task has a retry policy
    uow = new_uow()
    with uow:
        task = uow.tasks.get(first.id)
        task.start("w", NOW)
        task.requeue_for_retry("boom", NOW)
        uow.tasks.save(task)
        uow.commit()
    with pytest.raises(DuplicateUniqueTask, match=f"task {first.id} "):
        add_unique(new_uow)


def test_a_retried_task_takes_the_key_back_and_is_refused_while_another_holds_it(new_uow):
    old = add_unique(new_uow)
    uow = new_uow()
    with uow:
        task = uow.tasks.get(old.id)
        task.cancel(NOW)
        uow.tasks.save(task)
        uow.commit()
    newer = add_unique(new_uow)
    with pytest.raises(DuplicateUniqueTask, match=f"task {newer.id} is already queued or running"):
        with uow:
            task = uow.tasks.get(old.id)
            task.retry(NOW)
            uow.tasks.save(task)
            uow.commit()
    with uow:
        assert uow.tasks.get(old.id).status is TaskStatus.CANCELED
        newest = uow.tasks.get(newer.id)
        newest.cancel(NOW)
        uow.tasks.save(newest)
        task = uow.tasks.get(old.id)
        task.retry(NOW)
        uow.tasks.save(task)
        uow.commit()
    with uow:
        assert uow.tasks.get(old.id).status is TaskStatus.QUEUED


def test_a_refused_key_leaves_the_unit_of_work_usable(new_uow):
    holder = add_unique(new_uow)
    uow = new_uow()
    with uow:
        with pytest.raises(DuplicateUniqueTask):
            uow.tasks.add(unique_task())
        plain = uow.tasks.add(a_task())
        uow.commit()
    with uow:
        assert {t.id for t in uow.tasks.list(_everything()).items} == {holder.id, plain.id}


def _everything() -> TaskQuery:
    return TaskQuery(limit=100)
