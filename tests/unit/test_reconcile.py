"""The reconciler repairs what Redis and SQL disagree on, and says so in the row's log."""

import pytest

from adapters.memory.inspector import InMemoryJobInspector
from application.reconcile import JobReport, JobState, Reconcile
from application.registry import task
from application.tasks import TaskRequest
from domain.retry import Retry
from domain.task import TaskStatus


@pytest.fixture
def reconcile(service, registry):
    @task(registry=registry)
    def add(a: int, b: int) -> int:
        return a + b

    @task(registry=registry, retry=Retry(max=1, interval=5))
    def patient() -> str:
        return "ok"

    inspector = InMemoryJobInspector(service.queue)
    pass_ = Reconcile(service.uow, service.queue, inspector, service.execution, service.clock, service.events,
                      grace=10)
    return pass_


def lose_the_queue(service):
    service.queue.jobs.clear()  # Redis restarted without persistence


def test_a_queued_row_whose_job_vanished_is_re_enqueued_once_after_the_grace(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    lose_the_queue(service)
    assert reconcile().requeued == []  # too fresh: its enqueue may still be in flight
    service.clock.advance(11)
    assert reconcile().requeued == [1]
    assert reconcile().requeued == []  # its job exists again
    service.worker.work()
    done = service.get(1)
    assert done.status is TaskStatus.FINISHED
    assert "re-enqueued it: its job was missing" in done.log


def test_a_running_row_whose_worker_is_gone_is_ended(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    service.execution.start(1, "w-dead")
    reconcile.inspector.states[1] = JobReport(JobState.STARTED)
    report = reconcile()
    assert report.ended == [1]
    failed = service.get(1)
    assert failed.status is TaskStatus.FAILED
    assert "its worker w-dead is gone" in failed.log


def test_a_running_row_of_a_live_worker_is_left_alone(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    service.execution.start(1, "w-alive")
    reconcile.inspector.states[1] = JobReport(JobState.STARTED)
    reconcile.inspector.workers.add("w-alive")
    assert not reconcile()
    assert service.get(1).status is TaskStatus.RUNNING


def test_a_lost_attempt_with_retries_left_is_retried_per_policy(service, reconcile):
    service.enqueue(TaskRequest("patient"))
    service.queue.take_due()
    service.execution.start(1, "w-dead")
    reconcile.inspector.states[1] = JobReport(JobState.STARTED)
    assert reconcile().retried == [1]
    del reconcile.inspector.states[1]
    assert service.get(1).status is TaskStatus.QUEUED
    service.clock.advance(5)
    service.worker.work()
    assert service.get(1).status is TaskStatus.FINISHED and service.get(1).attempts == 2


def test_a_running_row_whose_job_finished_takes_the_queue_outcome(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    service.execution.start(1, "w")
    reconcile.inspector.states[1] = JobReport(JobState.FINISHED, result=3)
    assert reconcile().ended == [1]
    done = service.get(1)
    assert (done.status, done.result) == (TaskStatus.FINISHED, {"result": 3})
    assert "took the queue's outcome" in done.log


def test_jobs_without_a_row_are_reported(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    reconcile.inspector.foreign = ["999"]
    assert reconcile().orphan_jobs == ["999"]
