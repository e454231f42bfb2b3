"""The list and batch routes write tasks out by hand (records.task_json): it must give what the TaskOut
schema gives, field for field, for tasks in every state."""

from datetime import datetime, timedelta, timezone

import pytest

from rqledger.domain.retry import Retry
from rqledger.domain.task import Task, TaskStatus
from rqledger.entrypoints.web.records import TaskOut, task_json

NOW = datetime(2026, 11, 24, 8, 0, 0, 123456, tzinfo=timezone.utc)


def queued() -> Task:
    task = Task(id=1, name="greet", args=["세계", 2.5, None], kwargs={"loud": True, "tags": ["a"]},
                description="says hello", queue="default", timeout=30, created_at=NOW)
    task.mark_enqueued(NOW)
    return task


def running() -> Task:
    task = queued()
    task.retry_policy = Retry(max=3, interval=(1, 2.5))
    task.start("host.123.abc", NOW + timedelta(seconds=1))
    task.set_progress(42)
    return task


def finished() -> Task:
    task = running()
    task.finish({"greeting": "안녕", "n": [1, 2]}, NOW + timedelta(seconds=2))
    return task


def failed() -> Task:
    task = queued()
    task.owner = "ann"
    task.retry_policy = Retry(max=0)
    task.start(None, NOW)
    task.record_failure("ValueError: boom\nTraceback ...", NOW + timedelta(seconds=3))
    return task


def naive_times() -> Task:
    task = finished()
    task.created_at = task.created_at.replace(tzinfo=None)  # as a driver without zones might hand it back
    return task


def canceled_scalar_result() -> Task:
    task = queued()
    task.start("w", NOW)
    task.finish(7, NOW)  # a non-dict result is stored as {"result": 7}
    return task


@pytest.mark.parametrize("build", [queued, running, finished, failed, naive_times, canceled_scalar_result])
def test_task_json_is_what_the_schema_dumps(build):
    task = build()
    assert task_json(task) == TaskOut().dump(task)


def test_a_failed_task_says_so():
    task = failed()
    assert task.status is TaskStatus.FAILED and task_json(task)["failed"] is True
