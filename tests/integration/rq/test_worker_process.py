"""`rqledger worker` processes on a SQL ledger (SQLite file) and a real Redis: the issue's "Done when" list."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from rq.command import send_stop_job_command
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from rqledger.application.errors import TaskNotQueued
from rqledger.application.tasks import TaskRequest
from rqledger.domain.errors import DuplicateUniqueTask
from rqledger.domain.retry import Retry
from rqledger.domain.task import TaskStatus
from tests.integration.rq.processes import alive, wait_for

pytestmark = pytest.mark.integration


def enqueue(ledger, name, *args, **kwargs):
    return ledger.enqueue_task()(TaskRequest(name, list(args), kwargs))


def row(ledger, task_id):
    return ledger.get_task()(task_id)


def status_is(ledger, task_id, *statuses):
    return lambda: row(ledger, task_id).status in statuses


def job_of(ledger, task_id) -> Job:
    return Job.fetch(str(task_id), connection=ledger.rq_connection(), serializer=JSONSerializer)


@pytest.mark.parametrize("database_url, worker_args", [("sqlite", ()), ("postgresql", ()), ("sqlite", ("--simple",))],
                         indirect=["database_url"], ids=["sqlite", "postgresql", "sqlite-simple"])
def test_a_burst_worker_records_results_failures_and_timeouts(ledger, start_worker, worker_args):
    greeting = enqueue(ledger, "greet", "세계")
    plain = enqueue(ledger, "answer")
    broken = enqueue(ledger, "explode", "kaboom")
    slow = enqueue(ledger, "oversleep", 5)

    worker = start_worker("--burst", *worker_args)
    assert worker.wait(60) == 0

    done = row(ledger, greeting.id)
    assert done.status is TaskStatus.FINISHED and done.attempts == 1 and done.progress == 100
    assert done.result == {"greeting": "안녕하세요, 세계!", "한글": "데이터"}
    assert row(ledger, plain.id).result == {"result": 42}
    failed = row(ledger, broken.id)
    assert failed.status is TaskStatus.FAILED
    assert "ValueError: boom: kaboom" in failed.log and "Traceback (most recent call last)" in failed.log
    assert 'raise ValueError(f"boom: {message}")' in failed.log
    timed_out = row(ledger, slow.id)
    assert timed_out.status is TaskStatus.FAILED and "timed out after 1 s" in timed_out.log
    # RQ's own view agrees, and its tools find our jobs by the row id
    assert job_of(ledger, greeting.id).get_status() == JobStatus.FINISHED
    assert job_of(ledger, broken.id).get_status() == JobStatus.FAILED
    assert job_of(ledger, greeting.id).description == "greet('세계')"
    # one line per task start and end
    assert f"task {greeting.id} greet attempt 1 started" in worker.output
    assert f"task {greeting.id} greet attempt 1 finished in" in worker.output
    assert f"task {broken.id} explode attempt 1 failed in" in worker.output


def test_an_interval_retry_runs_again_after_its_interval(ledger, start_worker, tmp_path):
    task = enqueue(ledger, "flaky", str(tmp_path / "marker"))  # Retry(max=2, interval=1)

    start_worker()  # not --burst: the retry waits in RQ's scheduled registry for the worker's scheduler
    wait_for(lambda: row(ledger, task.id).attempts >= 1 and status_is(ledger, task.id, TaskStatus.QUEUED)(),
             20, what="the first attempt failing into a retry")
    assert job_of(ledger, task.id).get_status() == JobStatus.SCHEDULED
    wait_for(status_is(ledger, task.id, TaskStatus.FINISHED), 20, what="the retry finishing")

    done = row(ledger, task.id)
    first, second = done.history
    assert (second.started_at - first.ended_at).total_seconds() >= 1  # never before its interval
    assert done.attempts == 2 and done.result == {"recovered": True}
    assert "attempt 1 failed: RuntimeError: first attempt fails on purpose" in done.log
    assert [a.outcome.value for a in done.history] == ["failed", "finished"]


def test_a_canceled_queued_task_never_runs(ledger, start_worker):
    task = enqueue(ledger, "greet", "nobody")
    ledger.cancel_task()(task.id)

    assert start_worker("--burst").wait(60) == 0

    canceled = row(ledger, task.id)
    assert canceled.status is TaskStatus.CANCELED and canceled.attempts == 0 and canceled.result is None


def test_a_running_task_is_stopped_within_two_seconds_when_canceled(ledger, start_worker):
    task = enqueue(ledger, "nap", 30)
    start_worker()
    wait_for(status_is(ledger, task.id, TaskStatus.RUNNING), 20, what="the task starting")

    asked = time.monotonic()
    ledger.cancel_task()(task.id)
    wait_for(lambda: job_of(ledger, task.id).get_status() == JobStatus.STOPPED, 2, what="the job stopping")

    assert time.monotonic() - asked < 2
    canceled = row(ledger, task.id)
    assert canceled.status is TaskStatus.CANCELED and canceled.history[-1].outcome.value == "canceled"
    assert canceled.result is None


def test_progress_is_live_in_another_process_and_throttled_in_the_ledger(ledger, start_worker):
    task = enqueue(ledger, "progress_loop", 10_000, 3.0)
    start_worker("--burst")

    seen = wait_for(lambda: (lambda p: p if 0 < p < 100 else None)(row(ledger, task.id).progress), 20,
                    interval=0.1, what="progress strictly between 0 and 100")
    wait_for(status_is(ledger, task.id, TaskStatus.FINISHED), 30, what="the task finishing")

    assert 0 < seen < 100
    done = row(ledger, task.id)
    assert done.progress == 100
    meta = job_of(ledger, task.id).get_meta()
    assert meta["progress_reports"] == 10_000
    # RQLEDGER_PROGRESS_INTERVAL=0.5: at most one progress write per half second of running
    assert meta["progress_ledger_writes"] <= (done.ended_at - done.started_at).total_seconds() / 0.5 + 2


def test_live_progress_is_fresher_than_the_ledger_row(ledger, start_worker):
    task = enqueue(ledger, "nap", 3)
    start_worker("--burst")
    wait_for(status_is(ledger, task.id, TaskStatus.RUNNING), 20, what="the task starting")

    def live_ahead():
        with ledger.uow() as uow:
            stored = uow.tasks.get(task.id).progress
        live = ledger.queue().live_progress([task.id]).get(task.id, 0)
        return live > stored and 0 < live < 100

    wait_for(live_ahead, 5, interval=0.05, what="the live value running ahead of the throttled row")


def test_a_unique_type_is_refused_while_one_runs_and_accepted_after(ledger, start_worker):
    first = enqueue(ledger, "singleton", 1.5)
    start_worker("--burst")
    wait_for(status_is(ledger, first.id, TaskStatus.RUNNING), 20, what="the first one starting")

    with pytest.raises(DuplicateUniqueTask):
        enqueue(ledger, "singleton", 0)

    wait_for(status_is(ledger, first.id, TaskStatus.FINISHED), 20, what="the first one finishing")
    second = enqueue(ledger, "singleton", 0)
    assert second.status is TaskStatus.QUEUED


def test_sigterm_lets_the_running_task_finish(ledger, start_worker):
    task = enqueue(ledger, "nap", 2)
    worker = start_worker()
    wait_for(status_is(ledger, task.id, TaskStatus.RUNNING), 20, what="the task starting")

    worker.signal(signal.SIGTERM)

    assert worker.wait(30) == 0
    done = row(ledger, task.id)
    assert done.status is TaskStatus.FINISHED and done.result == {"slept": 2}


def test_a_killed_work_horse_fails_the_row_at_once(ledger, start_worker):
    task = enqueue(ledger, "die")

    worker = start_worker("--burst")
    assert worker.wait(60) == 0

    failed = row(ledger, task.id)
    assert failed.status is TaskStatus.FAILED
    assert "the work-horse running it died by signal 9" in failed.log
    assert job_of(ledger, task.id).get_status() == JobStatus.FAILED


def test_rq_info_lists_our_queues_and_workers(ledger, ledger_env, start_worker):
    task = enqueue(ledger, "nap", 1.5)
    worker = start_worker("--queues", "other,default", "--without-scheduler")
    wait_for(status_is(ledger, task.id, TaskStatus.RUNNING), 20, what="the task starting")
    name = row(ledger, task.id).worker

    out = subprocess.run([sys.executable, "-m", "rq.cli", "info", "--url", ledger_env["REDIS_URL"]],
                         capture_output=True, text=True, timeout=30).stdout

    # RQ's own tools see each queue's three RQ queues (its high, normal and low tasks), in the order taken
    assert f"{name} (" in out and "busy other:high, default:high, other, default, other:low, default:low" in out, out
    assert "default" in out.splitlines()[0]
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_a_killed_worker_takes_its_scheduler_process_along(ledger, start_worker):
    worker = start_worker()
    scheduler_pid = int(wait_for(lambda: re.findall(r"Scheduler for .* started with PID (\d+)", worker.output), 20,
                                 what="RQ's scheduler starting")[0])

    os.kill(worker.process.pid, signal.SIGKILL)  # the worker alone, as the OOM killer would

    wait_for(lambda: not alive(scheduler_pid), 10, what="the orphaned scheduler stopping")
    held = re.findall(r"Acquired scheduler lock for (\S+)", worker.output)
    assert held and not any(ledger.rq_connection().exists(f"rq:scheduler-lock:{q}") for q in held)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_killed_work_horse_is_retried_by_the_policy_then_failed(ledger, start_worker):
    task = ledger.enqueue_task()(TaskRequest("die", retry=Retry(max=1, interval=0)))

    assert start_worker("--burst").wait(60) == 0

    failed = row(ledger, task.id)
    assert failed.status is TaskStatus.FAILED and failed.attempts == 2
    assert failed.log.count("the work-horse running it died by signal 9") == 2
    assert [a.outcome.value for a in failed.history] == ["failed", "failed"]


def test_a_stop_command_from_rqs_own_tools_cancels_the_row(ledger, start_worker):
    task = enqueue(ledger, "nap", 30)
    start_worker()
    wait_for(status_is(ledger, task.id, TaskStatus.RUNNING), 20, what="the task starting")

    send_stop_job_command(ledger.rq_connection(), str(task.id), serializer=JSONSerializer)

    wait_for(status_is(ledger, task.id, TaskStatus.CANCELED), 2, what="the row being canceled")
    assert "stopped by a stop-job command" in row(ledger, task.id).log


def test_a_result_that_cannot_be_stored_fails_the_row(ledger, start_worker):
    task = enqueue(ledger, "unstorable")

    assert start_worker("--burst").wait(60) == 0

    failed = row(ledger, task.id)
    assert failed.status is TaskStatus.FAILED and "the result cannot be stored as JSON" in failed.log
    assert job_of(ledger, task.id).get_status() == JobStatus.FAILED


def test_a_cold_shutdown_ends_the_running_task_too(ledger, start_worker):
    task = enqueue(ledger, "nap", 30)
    worker = start_worker()
    wait_for(status_is(ledger, task.id, TaskStatus.RUNNING), 20, what="the task starting")

    worker.signal(signal.SIGTERM)
    time.sleep(1.2)  # RQ ignores a second signal within a second of the first
    worker.signal(signal.SIGTERM)

    worker.wait(30)
    failed = row(ledger, task.id)
    assert failed.status is TaskStatus.FAILED
    assert "the worker was shut down (cold) while it ran" in failed.log
    assert job_of(ledger, task.id).get_status() == JobStatus.FAILED


def test_a_worker_without_redis_says_so_in_one_line(ledger_env):
    from tests.integration.rq.processes import ROOT, rqledger_command
    from tests.services import free_port

    env = {**os.environ, **ledger_env, "REDIS_URL": f"redis://:secret@127.0.0.1:{free_port()}/0",
           "PYTHONPATH": str(ROOT)}
    started = time.monotonic()

    done = subprocess.run([*rqledger_command(), "worker", "--burst"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=30)

    assert done.returncode == 1 and time.monotonic() - started < 10
    assert done.stderr.startswith("Error: Redis could not be reached at 127.0.0.1:")
    assert "secret" not in done.stderr and "Traceback" not in done.stderr


def test_live_progress_is_published_as_events_for_live_views(ledger, start_worker):
    feed = ledger.event_feed()
    events = []
    feed.subscribe(events.append)
    try:
        assert feed.connected.wait(5)
        task = enqueue(ledger, "nap", 1.5)
        start_worker("--burst")
        wait_for(status_is(ledger, task.id, TaskStatus.FINISHED), 20, what="the task finishing")
        wait_for(lambda: any(e.get("status") == "finished" for e in events if e.get("id") == task.id), 5,
                 what="the finished event")
    finally:
        feed.close()

    mine = [e for e in events if e.get("kind") == "task" and e.get("id") == task.id]
    running = [e["progress"] for e in mine if e["status"] == "running"]
    assert any(0 < p < 100 for p in running)
    assert running == sorted(running) and len(running) <= 1.5 / 0.3 + 3  # throttled like the live channel


def test_every_event_of_a_task_a_worker_runs_carries_its_owner(ledger, start_worker):
    feed = ledger.event_feed()
    events = []
    feed.subscribe(events.append)
    try:
        assert feed.connected.wait(5)
        task = ledger.enqueue_task()(TaskRequest("nap", [1.5], owner=7))
        start_worker("--burst")
        wait_for(lambda: any(e.get("status") == "finished" for e in events if e.get("id") == task.id), 20,
                 what="the finished event")
    finally:
        feed.close()

    mine = [e for e in events if e.get("kind") == "task" and e.get("id") == task.id]
    assert {e["status"] for e in mine} == {"queued", "running", "finished"}
    assert any(0 < e["progress"] < 100 for e in mine)  # the work-horse's live progress events too
    assert {e["owner"] for e in mine} == {"7"}


def test_an_enqueue_with_redis_on_a_closed_port_fails_the_sql_row_within_two_seconds(ledger, ledger_env):
    from rqledger.entrypoints.container import build_container
    from rqledger.entrypoints.settings import load_settings
    from tests.services import free_port

    offline = build_container(load_settings({**ledger_env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}))
    started = time.monotonic()
    try:
        with pytest.raises(TaskNotQueued, match="could not be queued") as raised:
            offline.enqueue_task()(TaskRequest("answer"))
    finally:
        offline.database_engine().dispose()

    assert time.monotonic() - started < 2
    failed = row(ledger, raised.value.task.id)  # read back by another container, from the database
    assert failed.status is TaskStatus.FAILED
    assert "the queue could not take it: Redis could not enqueue" in failed.log


def test_a_worker_listens_only_on_the_queues_it_is_given(ledger, start_worker):
    elsewhere = ledger.enqueue_task()(TaskRequest("answer", queue="other"))
    here = ledger.enqueue_task()(TaskRequest("answer"))

    assert start_worker("--queues", "other", "--burst").wait(60) == 0

    assert row(ledger, elsewhere.id).status is TaskStatus.FINISHED
    assert row(ledger, here.id).status is TaskStatus.QUEUED
