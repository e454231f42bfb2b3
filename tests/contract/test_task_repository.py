"""The TaskRepository contract: every implementation stores, finds and guards tasks the same way."""

import copy
from datetime import timezone

import pytest

from rqledger.application.ports import TaskQuery
from rqledger.domain.errors import ConcurrentUpdate, TaskNotFound
from rqledger.domain.task import AttemptOutcome, Task, TaskStatus
from tests.contract.builders import NOW, a_task, add_task, later


def test_a_task_comes_back_with_every_field(new_uow):
    stored = add_task(new_uow)
    uow = new_uow()
    with uow:
        task = uow.tasks.get(stored.id)
    assert (task.name, task.args, task.kwargs, task.description) == (
        "export", [1, "two", {"three": [3.5]}], {"user": "한글데이터", "flag": True}, "exports posts")
    assert (task.queue, task.timeout, task.owner, task.status) == ("default", 600, "alice", TaskStatus.QUEUED)
    assert task.retry_policy.max == 3 and task.retry_policy.delay_before(3) == 30
    assert task.created_at == NOW and task.created_at.tzinfo == timezone.utc
    assert (task.progress, task.result, task.attempts, task.history, task.version) == (0, None, 0, [], 0)


def test_ids_are_given_on_add(uow):
    with uow:
        first, second = uow.tasks.add(a_task()), uow.tasks.add(a_task())
        uow.commit()
    assert first.id is not None and second.id > first.id


def test_a_missing_task_is_named(uow):
    with uow, pytest.raises(TaskNotFound, match="task 999999 does not exist"):
        uow.tasks.get(999999)


def test_nothing_lands_without_commit(new_uow):
    uow = new_uow()
    with uow:
        task = uow.tasks.add(a_task())
    with uow, pytest.raises(TaskNotFound):
        uow.tasks.get(task.id)


def test_a_change_without_save_is_lost(new_uow):
    task_id = add_task(new_uow).id
    uow = new_uow()
    with uow:
        uow.tasks.get(task_id).start("w", NOW)
        uow.commit()
    with uow:
        assert uow.tasks.get(task_id).status is TaskStatus.QUEUED


def test_leaving_the_block_rolls_back_what_was_not_committed(new_uow):
    task_id = add_task(new_uow).id
    uow = new_uow()
    with pytest.raises(RuntimeError), uow:
        task = uow.tasks.get(task_id)
        task.cancel(NOW)
        uow.tasks.save(task)
        raise RuntimeError("the use case broke")
    with uow:
        assert uow.tasks.get(task_id).status is TaskStatus.QUEUED


def test_an_attempt_history_round_trips(new_uow):
    task_id = add_task(new_uow).id
    uow = new_uow()
    for step in ("start", "retry", "start", "finish"):
        with uow:
            task = uow.tasks.get(task_id)
            if step == "start":
                task.start("worker-1", later(1))
            elif step == "retry":
                task.requeue_for_retry("ValueError: boom", later(2))
            else:
                task.finish({"posts": 3, "text": "한글데이터"}, later(3))
            uow.tasks.save(task)
            uow.commit()
    with uow:
        task = uow.tasks.get(task_id)
    assert task.status is TaskStatus.FINISHED and task.attempts == 2 and task.progress == 100
    assert task.result == {"posts": 3, "text": "한글데이터"}
    assert [(a.number, a.outcome, a.error) for a in task.history] == [
        (1, AttemptOutcome.FAILED, "ValueError: boom"), (2, AttemptOutcome.FINISHED, None)]
    assert task.history[0].started_at == later(1) and task.history[1].ended_at == later(3)
    assert task.ended_at == later(3) and task.ended_at.tzinfo == timezone.utc


def test_two_writers_on_one_row_cannot_both_win(new_uow):
    task_id = add_task(new_uow).id
    worker, user = new_uow(), new_uow()
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


def test_a_unit_of_work_may_save_a_task_twice(new_uow):
    task_id = add_task(new_uow).id
    uow = new_uow()
    with uow:
        task = uow.tasks.get(task_id)
        task.start("w", NOW)
        uow.tasks.save(task)
        task.finish("done", later(1))
        uow.tasks.save(task)
        uow.commit()
    with uow:
        task = uow.tasks.get(task_id)
    assert task.status is TaskStatus.FINISHED and task.result == {"result": "done"}
    assert [a.outcome for a in task.history] == [AttemptOutcome.FINISHED]


def test_a_save_that_changes_nothing_is_no_conflict(new_uow):
    task_id = add_task(new_uow).id
    uow = new_uow()
    with uow:
        uow.tasks.save(uow.tasks.get(task_id))
        uow.commit()


def test_a_task_added_and_saved_in_one_unit_of_work(uow):
    with uow:
        task = uow.tasks.add(a_task())
        task.fail("the queue could not take it", NOW)
        uow.tasks.save(task)
        uow.commit()
    with uow:
        assert uow.tasks.get(task.id).status is TaskStatus.FAILED


def test_saving_a_deleted_task_says_it_is_gone(new_uow):
    task_id = add_task(new_uow).id
    reader, deleter = new_uow(), new_uow()
    with reader:
        task = reader.tasks.get(task_id)
        with deleter:
            deleter.tasks.delete(task_id)
            deleter.commit()
        task.cancel(NOW)
        with pytest.raises((TaskNotFound, ConcurrentUpdate)):
            reader.tasks.save(task)
            reader.commit()


def test_deleting_a_task_deletes_it_with_its_history(new_uow):
    task_id = add_task(new_uow).id
    uow = new_uow()
    with uow:
        task = uow.tasks.get(task_id)
        task.start("w", NOW)
        task.finish(1, NOW)
        uow.tasks.save(task)
        uow.commit()
    with uow:
        uow.tasks.delete(task_id)
        uow.commit()
    with uow:
        with pytest.raises(TaskNotFound):
            uow.tasks.get(task_id)
        with pytest.raises(TaskNotFound):
            uow.tasks.delete(task_id)


def test_progress_is_written_only_for_the_running_attempt(new_uow):
    task_id = add_task(new_uow).id
    uow = new_uow()
    with uow:
        assert uow.tasks.record_progress(task_id, 1, 10) is False  # still queued
        task = uow.tasks.get(task_id)
        task.start("w", NOW)
        uow.tasks.save(task)
        uow.commit()
    with uow:
        assert uow.tasks.record_progress(task_id, 1, 40) is True
        assert uow.tasks.record_progress(task_id, 2, 50) is False  # a later attempt's, not this one
        assert uow.tasks.record_progress(999999, 1, 50) is False
        uow.commit()
    with uow:
        assert uow.tasks.get(task_id).progress == 40


def test_progress_does_not_stand_in_the_way_of_the_next_transition(new_uow):
    task_id = add_task(new_uow).id
    uow, reporter = new_uow(), new_uow()
    with uow:
        task = uow.tasks.get(task_id)
        task.start("w", NOW)
        uow.tasks.save(task)
        uow.commit()
    with uow:
        task = uow.tasks.get(task_id)
        with reporter:
            reporter.tasks.record_progress(task_id, 1, 70)
            reporter.commit()
        task.finish({"ok": True}, NOW)
        uow.tasks.save(task)
        uow.commit()
    with uow:
        assert uow.tasks.get(task_id).status is TaskStatus.FINISHED


def test_find_active_finds_a_queued_or_running_task_of_that_type_and_owner(new_uow):
    add_task(new_uow, name="other")
    mine = add_task(new_uow, owner="alice")
    uow = new_uow()
    with uow:
        assert uow.tasks.find_active("export", "alice").id == mine.id
        assert uow.tasks.find_active("export", None).id == mine.id
        assert uow.tasks.find_active("export", "bob") is None
        task = uow.tasks.get(mine.id)
        task.cancel(NOW)
        uow.tasks.save(task)
        uow.commit()
    with uow:
        assert uow.tasks.find_active("export", "alice") is None


def _ids(page):
    return [task.id for task in page.items]


def test_listing_is_newest_first_with_a_cursor(new_uow):
    ids = [add_task(new_uow).id for _ in range(5)]
    uow = new_uow()
    with uow:
        first = uow.tasks.list(TaskQuery(limit=2))
        second = uow.tasks.list(TaskQuery(limit=2, before_id=first.next_cursor))
        last = uow.tasks.list(TaskQuery(limit=2, before_id=second.next_cursor))
    assert _ids(first) == ids[::-1][:2] and first.next_cursor == ids[3]
    assert _ids(second) == ids[::-1][2:4]
    assert _ids(last) == [ids[0]] and last.next_cursor is None


def test_a_page_that_ends_exactly_at_the_last_row_has_no_next_cursor(new_uow):
    ids = [add_task(new_uow).id for _ in range(2)]
    uow = new_uow()
    with uow:
        page = uow.tasks.list(TaskQuery(limit=2))
    assert _ids(page) == ids[::-1] and page.next_cursor is None


def test_listing_filters_by_status_name_owner_and_end(new_uow):
    queued = add_task(new_uow, owner="alice")
    other = add_task(new_uow, name="other", owner="bob")
    ended = add_task(new_uow, owner="bob")
    uow = new_uow()
    with uow:
        task = uow.tasks.get(ended.id)
        task.cancel(later(10))
        uow.tasks.save(task)
        uow.commit()
    with uow:
        by_status = uow.tasks.list(TaskQuery(statuses=frozenset({TaskStatus.CANCELED, TaskStatus.FAILED})))
        by_name = uow.tasks.list(TaskQuery(name="other"))
        by_owner = uow.tasks.list(TaskQuery(owner="bob"))
        queued_by_alice = uow.tasks.list(TaskQuery(statuses=frozenset({TaskStatus.QUEUED}), owner="alice"))
        ended_long_ago = uow.tasks.list(TaskQuery(ended_before=later(5)))
        ended_before_now = uow.tasks.list(TaskQuery(ended_before=later(11)))
    assert _ids(by_status) == [ended.id]
    assert _ids(by_name) == [other.id]
    assert _ids(by_owner) == [ended.id, other.id]
    assert _ids(queued_by_alice) == [queued.id]
    assert _ids(ended_long_ago) == [] and _ids(ended_before_now) == [ended.id]


def test_a_listed_task_can_be_changed_and_saved(new_uow):
    task_id = add_task(new_uow).id
    uow = new_uow()
    with uow:
        task = uow.tasks.list(TaskQuery()).items[0]
        task.start("w", NOW)
        task.finish(1, NOW)
        uow.tasks.save(task)
        uow.commit()
    with uow:
        assert uow.tasks.get(task_id).history[0].outcome is AttemptOutcome.FINISHED


def test_a_status_filter_pages_through_1000_rows_newest_first_without_losing_or_repeating_one(new_uow):
    uow = new_uow()
    with uow:
        tasks = [uow.tasks.add(Task(name="bulk", created_at=NOW)) for _ in range(1200)]
        for task in tasks[::6]:  # 200 of them leave the queued status
            task.cancel(NOW)
            uow.tasks.save(task)
        uow.commit()
    expected = [t.id for t in reversed(tasks) if t.status is TaskStatus.QUEUED]
    assert len(expected) == 1000
    seen, cursor = [], None
    with uow:
        while True:
            page = uow.tasks.list(TaskQuery(statuses=frozenset({TaskStatus.QUEUED}), limit=137, before_id=cursor))
            seen += _ids(page)
            assert all(t.status is TaskStatus.QUEUED for t in page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert seen == expected


def test_a_tracked_task_is_saved_against_the_version_it_carries_without_a_read(new_uow):
    """A writer that keeps what it wrote (a worker ending the attempt it started) saves without reading first."""
    task_id = add_task(new_uow).id
    uow = new_uow()
    with uow:
        started = uow.tasks.get(task_id)
        started.start("w", NOW)
        uow.tasks.save(started)
        uow.commit()
    with uow:  # a new unit of work that reads nothing
        ended = copy.deepcopy(started)
        uow.tasks.track(started)
        ended.finish({"n": 1}, later(1))
        uow.tasks.save(ended)
        uow.commit()
    with uow:
        task = uow.tasks.get(task_id)
    assert task.status is TaskStatus.FINISHED and task.result == {"n": 1}
    assert [(a.number, a.outcome) for a in task.history] == [(1, AttemptOutcome.FINISHED)]


def test_a_tracked_task_that_someone_changed_since_is_refused(new_uow):
    task_id = add_task(new_uow).id
    uow, user = new_uow(), new_uow()
    with uow:
        started = uow.tasks.get(task_id)
        started.start("w", NOW)
        uow.tasks.save(started)
        uow.commit()
    with user:
        canceled = user.tasks.get(task_id)
        canceled.cancel(later(1))
        user.tasks.save(canceled)
        user.commit()
    ended = copy.deepcopy(started)
    with uow:
        uow.tasks.track(started)
        ended.finish("late", later(2))
        with pytest.raises(ConcurrentUpdate, match=f"task {task_id} cannot go from canceled to finished"):
            uow.tasks.save(ended)
            uow.commit()
    with uow:
        assert uow.tasks.get(task_id).status is TaskStatus.CANCELED


def test_add_many_gives_ids_in_the_order_given_and_stores_every_field(new_uow):
    uow = new_uow()
    with uow:
        first = uow.tasks.add(a_task())
        batch = uow.tasks.add_many([a_task(name=f"t{i}") for i in range(5)])
        uow.commit()
    ids = [t.id for t in batch]
    assert ids == sorted(ids) and ids[0] > first.id and len(set(ids)) == 5
    with new_uow() as reader:
        stored = [reader.tasks.get(i) for i in ids]
    assert [t.name for t in stored] == [f"t{i}" for i in range(5)]
    assert all(t.owner == "alice" and t.kwargs["user"] == "한글데이터" for t in stored)


def test_add_many_of_nothing_writes_nothing(uow):
    with uow:
        assert uow.tasks.add_many([]) == []
        uow.commit()


def test_add_many_lands_only_on_commit_and_a_task_added_so_can_be_saved(new_uow):
    uow = new_uow()
    with uow:
        ids = [t.id for t in uow.tasks.add_many([a_task(), a_task()])]
    with new_uow() as reader:
        assert reader.tasks.list(TaskQuery()).items == []
    with uow:
        added = uow.tasks.add_many([a_task(), a_task()])
        added[1].cancel(later(1), "no")
        uow.tasks.save(added[1])
        uow.commit()
    with new_uow() as reader:
        assert reader.tasks.get(added[1].id).status is TaskStatus.CANCELED
    assert ids  # ids were given even though the rows were rolled back
