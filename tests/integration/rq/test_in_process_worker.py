"""The job body and the worker hooks, run in this process (RQ's SimpleWorker) on a memory ledger."""

from __future__ import annotations

import pytest
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from rqledger.adapters.rq import LedgerSimpleWorker
from rqledger.application.registry import default_registry, task
from rqledger.application.tasks import TaskRequest
from rqledger.domain.retry import Retry
from rqledger.domain.task import TaskStatus
from rqledger.entrypoints.worker import build_worker


def work(container) -> None:
    build_worker(container, ["default"], worker_class=LedgerSimpleWorker).work(burst=True, logging_level="WARNING")


def row(container, task_id):
    return container.get_task()(task_id)


def job_of(container, task_id) -> Job:
    return Job.fetch(str(task_id), connection=container.rq_connection(), serializer=JSONSerializer)


def test_a_finished_task_keeps_its_result_in_the_ledger_and_in_rq(memory_container):
    task = memory_container.enqueue_task()(TaskRequest("greet", ["세계"]))

    work(memory_container)

    done = row(memory_container, task.id)
    assert done.status is TaskStatus.FINISHED and done.progress == 100 and done.attempts == 1
    assert done.result == {"greeting": "안녕하세요, 세계!", "한글": "데이터"}
    assert done.worker and done.started_at and done.ended_at
    job = job_of(memory_container, task.id)
    assert job.get_status() == JobStatus.FINISHED and job.return_value() == done.result


def test_a_failure_is_logged_with_type_message_and_traceback(memory_container):
    task = memory_container.enqueue_task()(TaskRequest("explode", ["kaboom"]))

    work(memory_container)

    failed = row(memory_container, task.id)
    assert failed.status is TaskStatus.FAILED
    assert "ValueError: boom: kaboom" in failed.log and "Traceback (most recent call last)" in failed.log
    assert job_of(memory_container, task.id).get_status() == JobStatus.FAILED


def test_a_retry_without_interval_runs_again_in_the_same_burst(memory_container, tmp_path):
    task = memory_container.enqueue_task()(
        TaskRequest("flaky", [str(tmp_path / "marker")], retry=Retry(max=2, interval=0)))

    work(memory_container)

    done = row(memory_container, task.id)
    assert done.status is TaskStatus.FINISHED and done.attempts == 2
    assert "first attempt fails on purpose" in done.log
    assert [a.outcome.value for a in done.history] == ["failed", "finished"]


def test_a_timeout_fails_the_row_saying_so(memory_container):
    task = memory_container.enqueue_task()(TaskRequest("oversleep", [5]))

    work(memory_container)

    failed = row(memory_container, task.id)
    assert failed.status is TaskStatus.FAILED
    assert "timed out after 1 s" in failed.log
    assert job_of(memory_container, task.id).get_status() == JobStatus.FAILED


def test_a_canceled_task_never_runs(memory_container):
    task = memory_container.enqueue_task()(TaskRequest("greet", ["x"]))
    with memory_container.uow() as uow:  # canceled in the ledger while its job stays in the queue
        current = uow.tasks.get(task.id)
        current.cancel(memory_container.clock().now())
        uow.tasks.save(current)
        uow.commit()

    work(memory_container)

    assert row(memory_container, task.id).result is None
    assert "refused to start: the task is canceled" in row(memory_container, task.id).log


def test_a_type_the_worker_does_not_know_is_failed_without_running(memory_container):
    calls = []

    @task(name="vanishing")
    def vanishing() -> None:
        calls.append(1)

    queued = memory_container.enqueue_task()(TaskRequest("vanishing"))
    default_registry.unregister("vanishing")

    work(memory_container)

    failed = row(memory_container, queued.id)
    assert failed.status is TaskStatus.FAILED and "vanishing" in failed.log
    assert calls == []


def test_a_job_naming_another_type_than_its_row_runs_nothing(memory_container):
    queued = memory_container.enqueue_task()(TaskRequest("explode", ["never"]))
    rq_queue = memory_container.queue().queue("default")
    rq_queue.empty()
    rq_queue.enqueue("rqledger.entrypoints.task_entry.run_task", queued.id, "greet", job_id=str(queued.id))

    work(memory_container)

    failed = row(memory_container, queued.id)
    assert failed.status is TaskStatus.FAILED and "nothing was run" in failed.log
    assert "boom" not in failed.log


def test_progress_reaches_the_ledger_throttled_and_100_at_the_end(memory_container):
    task = memory_container.enqueue_task()(TaskRequest("progress_loop", [2000, 1.0]))

    work(memory_container)

    done = row(memory_container, task.id)
    assert done.progress == 100
    meta = job_of(memory_container, task.id).get_meta()
    assert meta["progress_reports"] == 2000
    assert 1 <= meta["progress_ledger_writes"] <= 5  # RQLEDGER_PROGRESS_INTERVAL=0.5 over about a second


@pytest.mark.parametrize("name", ["answer"])
def test_a_non_dict_result_is_stored_as_result(memory_container, name):
    task = memory_container.enqueue_task()(TaskRequest(name))

    work(memory_container)

    assert row(memory_container, task.id).result == {"result": 42}


def test_a_job_is_delivered_again_later_while_the_ledger_is_unreachable(redis_url, caplog):
    from rqledger.adapters.rq import RqTaskQueue
    from rqledger.domain.task import Task
    from rqledger.entrypoints import runtime
    from rqledger.entrypoints.container import build_container
    from rqledger.entrypoints.settings import load_settings
    from tests.integration.rq.conftest import settings_env
    from tests.services import free_port

    container = build_container(load_settings(settings_env(
        redis_url, RQLEDGER_STORAGE="sqlalchemy",
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere?connect_timeout=1")))
    runtime.install(container)
    try:
        RqTaskQueue(container.rq_connection()).enqueue(Task(name="answer", id=7, timeout=30))

        work(container)

        job = job_of(container, 7)
        assert job.get_status() == JobStatus.SCHEDULED
        assert "7" in container.queue().queue("default").scheduled_job_registry.get_job_ids()
        assert "the ledger is unreachable" in caplog.text
    finally:
        runtime.reset()
        container.rq_connection().close()


def test_a_delivery_that_ran_nothing_is_not_taken_for_the_rows_outcome(memory_container):
    from rqledger.adapters.rq import RqJobInspector
    from rqledger.application.reconcile import JobState

    task = memory_container.enqueue_task()(TaskRequest("answer"))
    with memory_container.uow() as uow:  # another delivery of this job is running it
        current = uow.tasks.get(task.id)
        current.start("elsewhere", memory_container.clock().now())
        uow.tasks.save(current)
        uow.commit()

    work(memory_container)

    assert job_of(memory_container, task.id).get_status() == JobStatus.FINISHED
    report = RqJobInspector(memory_container.rq_connection()).inspect([task.id])[task.id]
    assert report.state is JobState.FINISHED and report.superseded  # the reconciler then asks whether
    # worker "elsewhere" lives, as for a started job
    assert row(memory_container, task.id).status is TaskStatus.RUNNING


class _ProgressRefusingTasks:
    """The memory task repository, except that the database is 'down' for progress writes."""

    def __init__(self, tasks):
        self._tasks = tasks

    def __getattr__(self, name):
        return getattr(self._tasks, name)

    def record_progress(self, task_id, attempt, percent):
        from rqledger.application.errors import StorageUnavailable
        raise StorageUnavailable("the database is down (for progress)")


def test_a_ledger_that_refuses_progress_does_not_fail_the_task(memory_container, caplog):
    from rqledger.adapters.memory import InMemoryUnitOfWork
    from rqledger.adapters.rq import LedgerJob
    from rqledger.application.execution import TaskExecution

    uow = InMemoryUnitOfWork(memory_container.memory_store())
    uow.tasks = _ProgressRefusingTasks(uow.tasks)
    body = LedgerJob(TaskExecution(uow, memory_container.clock(), memory_container.events()),
                     memory_container.registry(), memory_container.clock(), memory_container.events(),
                     progress_interval=0.1)
    task = memory_container.enqueue_task()(TaskRequest("progress_loop", [200, 0.3]))

    assert body(None, task.id, "progress_loop") == {"calls": 200}

    assert row(memory_container, task.id).status is TaskStatus.FINISHED
    assert 1 <= caplog.text.count("progress not written to the ledger") <= 5  # backs off, never a flood


def test_the_in_process_worker_stays_live_through_a_task_longer_than_the_liveness_period(redis_url):
    import threading
    import time

    from rqledger.adapters.rq import RqJobInspector
    from rqledger.entrypoints import runtime
    from rqledger.entrypoints.container import build_container
    from rqledger.entrypoints.settings import load_settings
    from tests.integration.rq.conftest import settings_env

    ttl = 2  # heartbeats every second: a 3.5 s task outlives the period twice over
    container = build_container(load_settings(settings_env(redis_url, RQLEDGER_STORAGE="memory",
                                                           RQLEDGER_WORKER_TTL=str(ttl))))
    runtime.install(container)
    inspector = RqJobInspector(container.rq_connection(), worker_ttl=ttl)
    samples: list[tuple[float, str | None, set]] = []  # (seconds since the row started, its worker, live)
    done = threading.Event()

    def watch(task_id):
        started = None
        while not done.wait(0.2):
            current = row(container, task_id)
            if current.status is TaskStatus.RUNNING:
                started = started or time.monotonic()
                samples.append((time.monotonic() - started, current.worker, inspector.live_workers() or set()))

    try:
        task = container.enqueue_task()(TaskRequest("nap", [3.5]))
        watcher = threading.Thread(target=watch, args=(task.id,))
        watcher.start()
        try:
            work(container)
        finally:
            done.set()
            watcher.join()

        assert row(container, task.id).status is TaskStatus.FINISHED
        late = [(at, worker, live) for at, worker, live in samples if at > ttl + 0.5]
        assert late, samples
        assert all(worker in live for at, worker, live in late), late
        assert not [t for t in threading.enumerate() if t.name.startswith("heartbeat-")]  # stopped after
    finally:
        runtime.reset()
        container.rq_connection().close()


def test_each_task_start_and_end_is_one_log_line_with_its_fields(memory_container, caplog):
    task = memory_container.enqueue_task()(TaskRequest("greet", ["log"]))

    with caplog.at_level("INFO", logger="rqledger"):
        work(memory_container)

    lines = [r for r in caplog.records if getattr(r, "task_id", None) == task.id]
    assert [r.event for r in lines] == ["task_started", "task_ended"]
    end = lines[-1]
    assert (end.task, end.attempt, end.outcome) == ("greet", 1, "finished") and end.duration_s >= 0
