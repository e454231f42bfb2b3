"""Use cases on tasks, on the memory adapters, as a client and a worker drive them."""

import pytest

from rqledger.application.errors import TaskNotQueued
from rqledger.application.ports import TaskQuery
from rqledger.application.progress import set_progress
from rqledger.application.registry import task
from rqledger.application.tasks import TaskRequest
from rqledger.domain.errors import (DuplicateUniqueTask, IllegalTransition, InvalidArguments, TaskNotFound, TaskStillActive,
                           UnknownTaskType)
from rqledger.domain.retry import Retry
from rqledger.domain.task import AttemptOutcome, TaskStatus


@pytest.fixture
def tasks(registry):
    calls = {"flaky": 0}

    @task(registry=registry)
    def add(a: int, b: int) -> int:
        return a + b

    @task(registry=registry, retry=Retry(max=2, interval=[1, 3]))
    def always_fails():
        raise ValueError("boom")

    @task(registry=registry, retry=Retry(max=2, interval=1))
    def flaky() -> dict:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise RuntimeError("first try fails")
        return {"tries": calls["flaky"]}

    @task(registry=registry, unique=True)
    def export(user: str) -> dict:
        return {"user": user}

    @task(registry=registry)
    def counts_to_100():
        for i in range(10_000):
            set_progress(i // 100)
        return "done"

    @task(registry=registry)
    def returns_a_set():
        return {1, 2}

    return calls


def test_enqueue_writes_a_queued_row_and_hands_it_to_the_queue_under_its_id(service, tasks):
    task_ = service.enqueue(TaskRequest("add", [1, 2]))
    assert task_.status is TaskStatus.QUEUED and task_.id == 1
    assert [job.task_id for job in service.queue.jobs] == [1]
    assert service.get(1).enqueued_at == service.clock.now()


def test_a_worker_runs_it_and_stores_the_result(service, tasks):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.worker.work()
    done = service.get(1)
    assert (done.status, done.result, done.progress, done.attempts) == (TaskStatus.FINISHED, {"result": 3}, 100, 1)
    assert [e["status"] for e in service.events.published] == ["queued", "running", "finished"]


def test_an_enqueue_whose_queue_raises_leaves_a_failed_row_with_the_reason(service, tasks):
    service.queue.available = False
    with pytest.raises(TaskNotQueued, match="could not be queued") as caught:
        service.enqueue(TaskRequest("add", [1, 2]))
    assert caught.value.task.status is TaskStatus.FAILED
    stored = service.get(caught.value.task.id)
    assert stored.status is TaskStatus.FAILED
    assert "the queue could not take it: the in-memory queue is switched off" in stored.log


def test_unknown_names_and_bad_arguments_are_refused_before_anything_is_written(service, tasks):
    with pytest.raises(UnknownTaskType):
        service.enqueue(TaskRequest("os.system", ["rm -rf /"]))
    with pytest.raises(InvalidArguments, match="'a' of add must be an integer"):
        service.enqueue(TaskRequest("add", ["1", 2]))
    with pytest.raises(InvalidArguments, match="queue 'urgent' is not served"):
        service.enqueue(TaskRequest("add", [1, 2], queue="urgent"))
    with pytest.raises(InvalidArguments, match="timeout"):
        service.enqueue(TaskRequest("add", [1, 2], timeout=10**9))
    assert service.list(TaskQuery()).items == []


def test_a_task_that_fails_with_retry_max_2_is_attempted_three_times_and_ends_failed(service, tasks):
    service.enqueue(TaskRequest("always_fails"))
    for wait in (0, 1, 3):
        service.clock.advance(wait)
        assert service.worker.work() == 1
    failed = service.get(1)
    assert failed.status is TaskStatus.FAILED
    assert failed.attempts == 3
    assert failed.log.count("failed: ValueError: boom") == 3
    assert "Traceback" in failed.log
    assert [a.outcome for a in failed.history] == [AttemptOutcome.FAILED] * 3


def test_a_retry_waits_for_its_interval(service, tasks):
    service.enqueue(TaskRequest("always_fails"))
    service.worker.work()
    assert service.get(1).status is TaskStatus.QUEUED
    assert service.worker.work() == 0  # not due yet
    service.clock.advance(1)
    assert service.worker.work() == 1


def test_a_flaky_task_finishes_on_its_second_attempt_keeping_the_first_failure(service, tasks):
    service.enqueue(TaskRequest("flaky"))
    service.worker.work()
    service.clock.advance(1)
    service.worker.work()
    done = service.get(1)
    assert (done.status, done.attempts, done.result) == (TaskStatus.FINISHED, 2, {"tries": 2})
    assert "RuntimeError: first try fails" in done.log
    assert [a.outcome for a in done.history] == [AttemptOutcome.FAILED, AttemptOutcome.FINISHED]


def test_a_unique_type_refuses_a_second_while_one_is_queued_or_running_and_accepts_after(service, tasks):
    first = service.enqueue(TaskRequest("export", ["ann"], owner="ann"))
    with pytest.raises(DuplicateUniqueTask, match=f"task {first.id} is already queued or running"):
        service.enqueue(TaskRequest("export", ["ann"], owner="ann"))
    service.execution.start(first.id, "w")  # running now
    with pytest.raises(DuplicateUniqueTask):
        service.enqueue(TaskRequest("export", ["ann"], owner="ann"))
    other_owner = service.enqueue(TaskRequest("export", ["bob"], owner="bob"))
    service.execution.finish(first.id, 1, {"ok": True})
    again = service.enqueue(TaskRequest("export", ["ann"], owner="ann"))
    assert again.id not in (first.id, other_owner.id)


def test_progress_is_throttled_to_far_fewer_writes_than_calls(service, tasks):
    service.enqueue(TaskRequest("counts_to_100"))
    writes_before = service.store.writes
    service.worker.work()
    assert service.get(1).progress == 100
    # the start and the finish; no progress write: the clock stands still, so the first interval never passes
    assert service.store.writes - writes_before == 2


def test_a_result_json_cannot_hold_fails_the_task_clearly(service, tasks):
    service.enqueue(TaskRequest("returns_a_set"))
    service.worker.work()
    failed = service.get(1)
    assert failed.status is TaskStatus.FAILED
    assert "the result cannot be stored as JSON" in failed.log


def test_cancel_of_a_queued_task_means_it_never_runs(service, tasks):
    service.enqueue(TaskRequest("add", [1, 2]))
    canceled = service.cancel(1)
    assert canceled.status is TaskStatus.CANCELED
    assert service.worker.work() == 0
    assert service.get(1).attempts == 0


def test_a_late_job_delivery_of_a_canceled_task_is_refused_and_noted(service, tasks):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.cancel(1)
    assert service.run_task(1, "w") is None
    stored = service.get(1)
    assert stored.status is TaskStatus.CANCELED
    assert "refused to start: the task is canceled" in stored.log


def test_a_late_finish_from_an_old_attempt_is_refused(service, tasks):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.execution.start(1, "w1")
    service.cancel(1)
    assert service.execution.finish(1, 1, 3) is None
    stored = service.get(1)
    assert stored.status is TaskStatus.CANCELED
    assert "refused a late finish from attempt 1" in stored.log


def test_cancel_of_an_ended_task_is_refused(service, tasks):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.worker.work()
    with pytest.raises(IllegalTransition, match="task 1 cannot go from finished to canceled"):
        service.cancel(1)


def test_retry_requeues_a_failed_task_keeping_attempts_and_history(service, tasks):
    service.enqueue(TaskRequest("always_fails", retry=Retry(max=0)))
    service.worker.work()
    retried = service.retry(1)
    assert retried.status is TaskStatus.QUEUED and retried.attempts == 1
    service.worker.work()
    again = service.get(1)
    assert again.attempts == 2 and len(again.history) == 2


def test_retry_of_a_finished_task_is_refused(service, tasks):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.worker.work()
    with pytest.raises(IllegalTransition, match="finished to queued"):
        service.retry(1)


def test_retry_while_the_queue_is_down_fails_the_row_again(service, tasks):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.cancel(1)
    service.queue.available = False
    with pytest.raises(TaskNotQueued):
        service.retry(1)
    assert service.get(1).status is TaskStatus.FAILED


def test_delete_only_takes_ended_tasks(service, tasks):
    service.enqueue(TaskRequest("add", [1, 2]))
    with pytest.raises(TaskStillActive, match="cancel it first"):
        service.delete(1)
    service.worker.work()
    service.delete(1)
    with pytest.raises(TaskNotFound, match="task 1 does not exist"):
        service.get(1)


def test_list_filters_and_pages_newest_first_without_losing_or_repeating(service, tasks):
    for i in range(25):
        service.enqueue(TaskRequest("add", [i, i], owner="ann" if i % 2 else "bob"))
    service.cancel(3)
    seen, cursor = [], None
    while True:
        page = service.list(TaskQuery(statuses=frozenset({TaskStatus.QUEUED}), limit=7, before_id=cursor))
        seen += [t.id for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(set(range(1, 26)) - {3}, reverse=True)
    owned = service.list(TaskQuery(owner="ann", limit=500))
    assert all(t.owner == "ann" for t in owned.items) and len(owned.items) == 12
    with pytest.raises(InvalidArguments, match="limit"):
        service.list(TaskQuery(limit=501))


def test_get_shows_live_progress_of_a_running_task(service, tasks):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.execution.start(1, "w")
    service.queue.progress[1] = 42
    assert service.get(1).progress == 42


def test_a_batch_is_validated_whole_before_anything_is_written(service, tasks):
    with pytest.raises(InvalidArguments):
        service.enqueue.many([service.enqueue.build(TaskRequest("add", [1, 2])) and TaskRequest("add", [1, 2]),
                              TaskRequest("add", ["x", 2])])
    assert service.list(TaskQuery()).items == []
    done = service.enqueue.many([TaskRequest("add", [1, 2]), TaskRequest("add", [3, 4])])
    assert [t.id for t in done] == [1, 2]


def test_two_deliveries_racing_to_start_one_task_start_it_once(service, tasks):
    from rqledger.application.execution import TaskExecution

    service.enqueue(TaskRequest("add", [1, 2]))

    class FirstDeliveryStartsMeanwhile:
        """The second delivery has read the queued row; the first one starts it before the second saves."""

        def __init__(self):
            self.raced = False

        def now(self):
            if not self.raced:
                self.raced = True
                assert service.execution.start(1, "w1") is not None
            return service.clock.now()

    second = TaskExecution(service.new_uow(), FirstDeliveryStartsMeanwhile(), service.events)
    assert second.start(1, "w2") is None
    stored = service.get(1)
    assert (stored.status, stored.attempts, stored.worker) == (TaskStatus.RUNNING, 1, "w1")


def test_a_batch_holding_a_unique_type_twice_names_both_items_and_writes_nothing(service, tasks):
    with pytest.raises(DuplicateUniqueTask, match=r"holds it twice for owner 'ann' \(items 0 and 2\)") as refused:
        service.enqueue.many([TaskRequest("export", ["a"], owner="ann"), TaskRequest("add", [1, 2]),
                              TaskRequest("export", ["b"], owner="ann")])
    assert (refused.value.index, refused.value.earlier_index, refused.value.existing_id) == (2, 0, None)
    assert service.list(TaskQuery()).items == []


def test_a_batch_meeting_an_active_unique_task_names_the_item_and_the_task(service, tasks):
    active = service.enqueue(TaskRequest("export", ["a"], owner="ann"))
    with pytest.raises(DuplicateUniqueTask, match=f"task {active.id} is already queued or running") as refused:
        service.enqueue.many([TaskRequest("add", [1, 2]), TaskRequest("export", ["b"], owner="ann")])
    assert (refused.value.index, refused.value.existing_id) == (1, active.id)


def test_a_retry_of_a_unique_task_is_refused_while_another_of_its_type_and_owner_is_active(service, tasks):
    first = service.enqueue(TaskRequest("export", ["ann"], owner="ann"))
    service.cancel(first.id)
    second = service.enqueue(TaskRequest("export", ["ann"], owner="ann"))
    with pytest.raises(DuplicateUniqueTask, match=f"task {second.id} is already queued or running"):
        service.retry(first.id)
    assert service.get(first.id).status is TaskStatus.CANCELED
    service.cancel(second.id)
    assert service.retry(first.id).status is TaskStatus.QUEUED
    with pytest.raises(DuplicateUniqueTask, match=f"task {first.id} is already queued or running"):
        service.enqueue(TaskRequest("export", ["ann"], owner="ann"))


def test_an_owner_less_unique_task_is_refused_while_any_owners_is_active(service, tasks):
    service.enqueue(TaskRequest("export", ["ann"], owner="ann"))
    with pytest.raises(DuplicateUniqueTask):
        service.enqueue(TaskRequest("export", ["x"]))
    service.enqueue(TaskRequest("export", ["bob"], owner="bob"))  # an owner's own is counted per owner
