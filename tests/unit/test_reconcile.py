"""The reconciler repairs what Redis and SQL disagree on, and says so in the row's log."""

import pytest

from rqledger.adapters.memory.inspector import InMemoryJobInspector
from rqledger.application.reconcile import JobReport, JobState, Reconcile
from rqledger.application.registry import task
from rqledger.application.tasks import TaskRequest
from rqledger.domain.retry import Retry
from rqledger.domain.task import TaskStatus


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


def test_an_outcome_left_in_the_queue_for_this_attempt_is_taken(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    service.execution.start(1, "w-alive")
    reconcile.inspector.workers.add("w-alive")
    reconcile.inspector.states[1] = JobReport(JobState.FINISHED, result=3, attempt=1)
    assert reconcile().ended == [1]
    assert service.get(1).result == {"result": 3}


def test_an_outcome_of_another_attempt_is_not_taken_for_this_one(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    service.execution.start(1, "w-alive")
    reconcile.inspector.workers.add("w-alive")
    reconcile.inspector.states[1] = JobReport(JobState.FINISHED, result=3, attempt=7)  # an orphan's
    assert not reconcile()
    assert service.get(1).status is TaskStatus.RUNNING


def test_no_worker_is_judged_dead_while_liveness_cannot_be_told(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    service.execution.start(1, "w")
    reconcile.inspector.states[1] = JobReport(JobState.STARTED)
    reconcile.inspector.workers = None  # Redis restarted moments ago: workers have not registered again
    assert not reconcile()
    assert service.get(1).status is TaskStatus.RUNNING


def test_a_live_worker_keeps_an_attempt_whose_job_was_lost_until_its_timeout_is_long_past(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    running = service.execution.start(1, "w-alive")
    reconcile.inspector.workers.add("w-alive")  # its job is MISSING: Redis lost it while the horse runs
    service.clock.advance(running.timeout + 60)
    assert not reconcile()
    service.clock.advance(reconcile.grace + 1)
    assert reconcile().ended == [1]
    assert "its job is gone from the queue" in service.get(1).log


def test_a_row_its_worker_ended_during_the_pass_is_left_alone_without_a_refusal(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    service.execution.start(1, "w")
    inspector = reconcile.inspector

    class WorkerWinsTheRace(type(inspector)):
        def inspect(self, task_ids):
            service.execution.finish(1, 1, 3)  # the worker writes the ledger first, then RQ says finished
            return {1: JobReport(JobState.FINISHED, result=3)}

    racing = WorkerWinsTheRace(inspector.queue)
    reconcile.inspector = racing
    assert not reconcile()
    done = service.get(1)
    assert done.status is TaskStatus.FINISHED and "refused" not in done.log


def test_a_queued_row_whose_job_ended_in_the_queue_is_re_enqueued(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()  # delivered, and the delivery ended without the row moving on
    reconcile.inspector.states[1] = JobReport(JobState.FINISHED, result={"rqledger_superseded": "..."},
                                              superseded=True)
    service.clock.advance(11)
    assert reconcile().requeued == [1]
    assert "its job had ended (finished) in the queue" in service.get(1).log


def test_a_queued_row_whose_job_a_worker_is_taking_is_left_alone(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    reconcile.inspector.states[1] = JobReport(JobState.STARTED)
    service.clock.advance(11)
    assert not reconcile()


def test_a_running_row_whose_job_ran_nothing_belongs_to_its_worker(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    service.execution.start(1, "w-alive")
    reconcile.inspector.workers.add("w-alive")
    reconcile.inspector.states[1] = JobReport(JobState.FINISHED, result={"x": 1}, superseded=True)
    assert not reconcile()
    reconcile.inspector.workers.clear()
    assert reconcile().ended == [1]
    assert "is gone (no heartbeat)" in service.get(1).log


def test_a_queued_row_whose_job_a_dead_worker_took_is_re_enqueued_after_the_grace(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()  # a worker took the job, then died before starting the row
    reconcile.inspector.states[1] = JobReport(JobState.STARTED, worker="w-dead")
    assert not reconcile()  # too fresh: the worker may be starting it right now
    service.clock.advance(11)
    assert reconcile().requeued == [1]
    assert reconcile.inspector.released == [1]  # the queue no longer counts it as that worker's
    assert reconcile().requeued == []  # its job waits again
    service.worker.work()
    done = service.get(1)
    assert done.status is TaskStatus.FINISHED and done.attempts == 1
    assert "taken by worker w-dead, which died before starting it" in done.log


def test_a_queued_row_whose_job_a_live_worker_took_is_left_alone(service, reconcile):
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    reconcile.inspector.states[1] = JobReport(JobState.STARTED, worker="w-alive")
    reconcile.inspector.workers.add("w-alive")
    service.clock.advance(11)
    assert not reconcile()
    reconcile.inspector.workers = None  # liveness cannot be told: nobody is judged dead
    assert not reconcile()
    assert reconcile.inspector.released == []


def test_an_outcome_its_live_worker_is_about_to_write_is_left_to_it_for_the_grace(service, reconcile):
    """The worker writes the outcome right after its work-horse exits: RQ knows it a moment before the row."""
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    service.execution.start(1, "w-alive")
    reconcile.inspector.workers.add("w-alive")
    reconcile.inspector.states[1] = JobReport(JobState.FINISHED, result=3, ended_at=service.clock.now())
    assert not reconcile()
    assert service.get(1).status is TaskStatus.RUNNING

    service.clock.advance(11)  # past the grace: the worker never wrote it (e.g. the ledger was down)
    assert reconcile().ended == [1]
    assert service.get(1).result == {"result": 3}


def test_an_attempt_whose_work_horse_runs_on_after_its_worker_died_is_left_to_it(service, reconcile):
    """A SIGKILLed worker's work-horse runs on: no retry may start beside it, and its outcome is its own."""
    service.enqueue(TaskRequest("patient"))
    service.queue.take_due()
    service.execution.start(1, "w-dead")
    reconcile.inspector.states[1] = JobReport(JobState.STARTED)
    reconcile.inspector.running.add(1)
    service.clock.advance(600)
    assert not reconcile()
    assert service.get(1).status is TaskStatus.RUNNING and service.get(1).attempts == 1

    service.execution.finish(1, 1, "ok")  # the orphan records its own outcome
    reconcile.inspector.running.clear()
    assert not reconcile()
    done = service.get(1)
    assert done.status is TaskStatus.FINISHED and done.attempts == 1 and "reconciler" not in done.log


def test_an_attempt_whose_job_the_queue_gave_up_is_left_to_its_running_work_horse(service, reconcile):
    """RQ fails an abandoned job (its worker's heartbeats stopped) while the orphaned work-horse still runs it."""
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    service.execution.start(1, "w-dead")
    reconcile.inspector.states[1] = JobReport(JobState.FAILED, error="AbandonedJobError")
    reconcile.inspector.running.add(1)
    service.clock.advance(11)
    assert not reconcile()
    assert service.get(1).status is TaskStatus.RUNNING


def test_an_attempt_is_ended_once_its_work_horse_stops_signing_too(service, reconcile):
    service.enqueue(TaskRequest("patient"))
    service.queue.take_due()
    service.execution.start(1, "w-dead")
    reconcile.inspector.states[1] = JobReport(JobState.STARTED)
    reconcile.inspector.running.add(1)
    assert not reconcile()
    reconcile.inspector.running.clear()  # the work-horse died as well (or was never forked)
    assert reconcile().retried == [1]
    assert "its worker w-dead is gone" in service.get(1).log


def test_a_queued_row_whose_dead_worker_s_work_horse_runs_on_is_not_delivered_again(service, reconcile):
    """The worker died after the fork: its work-horse starts the attempt itself (or finds it taken)."""
    service.enqueue(TaskRequest("add", [1, 2]))
    service.queue.take_due()
    reconcile.inspector.states[1] = JobReport(JobState.STARTED, worker="w-dead")
    reconcile.inspector.running.add(1)
    service.clock.advance(11)
    assert not reconcile()
    assert reconcile.inspector.released == []
    reconcile.inspector.running.clear()
    assert reconcile().requeued == [1]
