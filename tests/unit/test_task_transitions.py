import itertools
from datetime import datetime, timezone

import pytest

from rqledger.domain.errors import IllegalTransition
from rqledger.domain.retry import Retry
from rqledger.domain.task import TRANSITIONS, AttemptOutcome, Task, TaskStatus

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
S = TaskStatus


def task_in(status: TaskStatus, retry: Retry | None = None) -> Task:
    task = Task(name="t", id=7, retry_policy=retry)
    path = {
        S.QUEUED: [],
        S.RUNNING: ["start"],
        S.FINISHED: ["start", "finish"],
        S.FAILED: ["start", "fail"],
        S.CANCELED: ["cancel"],
    }[status]
    for step in path:
        {"start": lambda: task.start("w1", NOW), "finish": lambda: task.finish({}, NOW),
         "fail": lambda: task.fail("boom", NOW), "cancel": lambda: task.cancel(NOW)}[step]()
    assert task.status is status
    return task


def move(task: Task, target: TaskStatus) -> None:
    """Asks for `target` through the verb that leads there from the task's status."""
    if target is S.RUNNING:
        task.start("w1", NOW)
    elif target is S.FINISHED:
        task.finish(42, NOW)
    elif target is S.FAILED:
        task.fail("boom", NOW)
    elif target is S.CANCELED:
        task.cancel(NOW)
    elif target is S.QUEUED and task.status is S.RUNNING:
        task.retry_policy = Retry(max=1)
        task.requeue_for_retry("boom", NOW)
    elif target is S.QUEUED:
        task.retry(NOW)


@pytest.mark.parametrize("current,target", list(itertools.product(S, S)))
def test_every_status_pair_follows_the_table(current, target):
    task = task_in(current)
    if target in TRANSITIONS[current]:
        move(task, target)
        assert task.status is target
    else:
        with pytest.raises(IllegalTransition, match=f"task 7 cannot go from {current.value} to {target.value}"):
            move(task, target)
        assert task.status is current


def test_start_counts_the_attempt_and_records_the_worker():
    task = task_in(S.QUEUED)
    task.start("w1", NOW)
    assert (task.attempts, task.worker, task.started_at) == (1, "w1", NOW)
    assert task.history[0].number == 1 and task.history[0].worker == "w1"


def test_finish_stores_a_non_dict_result_under_result_and_sets_progress_to_100():
    task = task_in(S.RUNNING)
    task.finish([1, 2], NOW)
    assert task.result == {"result": [1, 2]}
    assert task.progress == 100
    assert task.history[-1].outcome is AttemptOutcome.FINISHED


def test_a_dict_result_is_stored_as_it_is():
    task = task_in(S.RUNNING)
    task.finish({"words": 3}, NOW)
    assert task.result == {"words": 3}


def test_record_failure_requeues_while_retries_are_left_then_fails():
    task = task_in(S.QUEUED, retry=Retry(max=2, interval=[5, 10]))
    delays = []
    for _ in range(3):
        task.start("w", NOW)
        delays.append(task.record_failure("ValueError: boom", NOW))
    assert delays == [5.0, 10.0, None]
    assert task.status is S.FAILED
    assert task.attempts == 3
    assert [a.outcome for a in task.history] == [AttemptOutcome.FAILED] * 3
    assert task.log.count("failed: ValueError: boom") == 3


def test_a_user_retry_keeps_the_history_and_restarts_the_policy():
    task = task_in(S.QUEUED, retry=Retry(max=1))
    for _ in range(2):
        task.start("w", NOW)
        task.record_failure("boom", NOW)
    assert task.status is S.FAILED
    task.retry(NOW)
    task.start("w", NOW)
    assert task.attempts == 3
    assert task.record_failure("boom", NOW) == 0.0  # the policy allows its retry afresh
    assert len(task.history) == 3


def test_requeue_without_retries_left_is_refused():
    task = task_in(S.RUNNING)
    with pytest.raises(IllegalTransition, match="no retries left"):
        task.requeue_for_retry("boom", NOW)


def test_progress_is_clamped_and_only_kept_while_running():
    task = task_in(S.RUNNING)
    task.set_progress(150)
    assert task.progress == 100
    task.finish(None, NOW)
    with pytest.raises(IllegalTransition, match="progress"):
        task.set_progress(5)


def test_every_transition_bumps_the_version():
    task = task_in(S.QUEUED)
    task.start("w", NOW)
    task.finish(1, NOW)
    assert task.version == 2


@pytest.mark.parametrize("kwargs", [{"max": -1}, {"max": 1.5}, {"max": 1, "interval": -2}, {"max": 1, "interval": [1, "x"]}])
def test_a_retry_policy_refuses_nonsense(kwargs):
    with pytest.raises(ValueError, match="Retry"):
        Retry(**kwargs)


def test_retry_intervals_repeat_the_last_one():
    policy = Retry(max=4, interval=[1, 2])
    assert [policy.delay_before(n) for n in (1, 2, 3, 4)] == [1, 2, 2, 2]
    assert Retry.from_dict(policy.to_dict()) == policy


def test_a_unique_task_holds_its_key_only_while_queued_or_running():
    task = Task(name="export", owner="ann", unique=True, retry_policy=Retry(max=1, interval=1))
    key = task.unique_key
    assert key is not None and len(key) == 64
    task.start("w", NOW)
    assert task.unique_key == key
    task.requeue_for_retry("boom", NOW)
    assert task.unique_key == key
    task.start("w", NOW)
    task.fail("boom", NOW)
    assert task.unique_key is None
    task.retry(NOW)
    assert task.unique_key == key


def test_the_key_is_per_type_and_owner_and_the_tasks_of_no_owner_share_one():
    def key(name, owner):
        return Task(name=name, owner=owner, unique=True).unique_key

    assert key("export", "ann") == key("export", "ann")
    assert len({key("export", "ann"), key("export", "bob"), key("export", None), key("import", "ann"),
                key("export", "None")}) == 5
    assert Task(name="export", owner="ann").unique_key is None  # a type that is not unique holds none
