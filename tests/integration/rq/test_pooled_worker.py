"""`rqledger worker --concurrency N` (the pooled worker) as real processes on a SQL ledger and a real Redis:
tasks run one after another in long-lived processes, and every guarantee of the forking worker holds."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from rqledger.application.tasks import TaskRequest
from rqledger.domain.retry import Retry
from rqledger.domain.task import TaskStatus
from tests.integration.rq.processes import alive, wait_for

pytestmark = pytest.mark.integration


def enqueue(ledger, name, *args, retry=None, **kwargs):
    return ledger.enqueue_task()(TaskRequest(name, list(args), kwargs, retry=retry))


def row(ledger, task_id):
    return ledger.get_task()(task_id)


def status_is(ledger, task_id, *statuses):
    return lambda: row(ledger, task_id).status in statuses


def job_status(ledger, task_id):
    return Job.fetch(str(task_id), connection=ledger.rq_connection(), serializer=JSONSerializer).get_status()


def child_pids(supervisor_pid: int) -> set[int]:
    with open(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children") as children:
        return {int(pid) for pid in children.read().split()}


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_two_processes_run_many_tasks_each_without_a_fork_per_task(ledger, start_worker):
    tasks = [enqueue(ledger, "whoami") for _ in range(12)]
    broken = enqueue(ledger, "explode", "kaboom")
    slow = enqueue(ledger, "oversleep", 5)

    worker = start_worker("--burst", "--concurrency", "2")
    assert worker.wait(60) == 0, worker.output

    rows = [row(ledger, t.id) for t in tasks]
    assert all(r.status is TaskStatus.FINISHED and r.attempts == 1 for r in rows), [r.status for r in rows]
    pids = {r.result["pid"] for r in rows}
    assert 1 <= len(pids) <= 2, pids  # 12 tasks in at most 2 processes: none forked for a task
    assert len({r.worker for r in rows}) == len(pids)
    failed = row(ledger, broken.id)
    assert failed.status is TaskStatus.FAILED and "ValueError: boom: kaboom" in failed.log
    timed_out = row(ledger, slow.id)
    assert timed_out.status is TaskStatus.FAILED and "timed out" in timed_out.log.lower()
    assert job_status(ledger, slow.id) == JobStatus.FAILED


def test_a_canceled_running_task_ends_its_process_which_is_replaced(ledger, start_worker):
    task = enqueue(ledger, "nap", 30)
    worker = start_worker("--concurrency", "1", "--without-scheduler")
    wait_for(status_is(ledger, task.id, TaskStatus.RUNNING), 20, what="the task starting")
    first = child_pids(worker.process.pid)

    asked = time.monotonic()
    ledger.cancel_task()(task.id)
    wait_for(lambda: job_status(ledger, task.id) == JobStatus.STOPPED, 2, what="the job stopping")
    assert time.monotonic() - asked < 2
    canceled = row(ledger, task.id)
    assert canceled.status is TaskStatus.CANCELED and canceled.history[-1].outcome.value == "canceled"
    assert not any(alive(pid) for pid in first), "the process that ran the canceled task still runs"

    after = enqueue(ledger, "whoami")  # a replacement takes the next task
    wait_for(status_is(ledger, after.id, TaskStatus.FINISHED), 20, what="the next task finishing")
    assert row(ledger, after.id).result["pid"] not in first
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0, worker.output


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_killed_process_s_task_is_retried_by_its_policy_then_failed_at_once(ledger, start_worker):
    task = enqueue(ledger, "die", retry=Retry(max=1, interval=0))
    after = enqueue(ledger, "whoami")

    worker = start_worker("--burst", "--concurrency", "1")
    assert worker.wait(60) == 0, worker.output

    failed = row(ledger, task.id)
    assert failed.status is TaskStatus.FAILED and failed.attempts == 2
    assert failed.log.count("the worker process running it died by signal 9") == 2, failed.log
    assert [a.outcome.value for a in failed.history] == ["failed", "failed"]
    assert job_status(ledger, task.id) == JobStatus.FAILED
    assert row(ledger, after.id).status is TaskStatus.FINISHED  # the replacement went on
    assert "was settled" in worker.output


def test_processes_are_replaced_after_max_tasks_per_child(ledger, start_worker):
    tasks = [enqueue(ledger, "whoami") for _ in range(5)]

    worker = start_worker("--burst", "--concurrency", "1", "--max-tasks-per-child", "2")
    assert worker.wait(60) == 0, worker.output

    pids = [row(ledger, t.id).result["pid"] for t in tasks]
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4], pids
    assert worker.output.count("2 tasks done (--max-tasks-per-child 2)") == 2


def test_a_process_past_max_memory_is_replaced_after_its_task(ledger, start_worker):
    hog = enqueue(ledger, "hog", 300)
    after = enqueue(ledger, "whoami")

    worker = start_worker("--burst", "--concurrency", "1", "--max-memory-per-child", "250")
    assert worker.wait(60) == 0, worker.output

    assert row(ledger, hog.id).status is TaskStatus.FINISHED
    assert row(ledger, after.id).result["pid"] != row(ledger, hog.id).result["pid"]
    assert re.search(r"\d+ MB of memory in use \(--max-memory-per-child 250\)", worker.output), worker.output


def test_sigterm_lets_every_running_task_finish(ledger, start_worker):
    tasks = [enqueue(ledger, "nap", 2) for _ in range(2)]
    waiting = enqueue(ledger, "whoami")
    worker = start_worker("--concurrency", "2", "--queues", "default")
    wait_for(lambda: all(row(ledger, t.id).status is TaskStatus.RUNNING for t in tasks), 20,
             what="both tasks starting")

    worker.signal(signal.SIGTERM)

    assert worker.wait(30) == 0, worker.output
    assert all(row(ledger, t.id).status is TaskStatus.FINISHED for t in tasks)
    assert row(ledger, waiting.id).status is TaskStatus.QUEUED  # not taken after the stop


def test_a_cold_shutdown_ends_the_running_tasks_and_records_them(ledger, start_worker):
    task = enqueue(ledger, "nap", 30)
    worker = start_worker("--concurrency", "2")
    wait_for(status_is(ledger, task.id, TaskStatus.RUNNING), 20, what="the task starting")

    worker.signal(signal.SIGTERM)
    time.sleep(1.2)
    worker.signal(signal.SIGTERM)

    worker.wait(30)
    failed = row(ledger, task.id)
    assert failed.status is TaskStatus.FAILED and "the worker was shut down (cold) while it ran" in failed.log
    assert job_status(ledger, task.id) == JobStatus.FAILED


def test_a_killed_supervisor_s_processes_finish_their_task_and_take_no_other(ledger, start_worker):
    task = enqueue(ledger, "nap", 3)
    worker = start_worker("--concurrency", "1", "--without-scheduler")
    wait_for(status_is(ledger, task.id, TaskStatus.RUNNING), 20, what="the task starting")
    children = child_pids(worker.process.pid)
    later = enqueue(ledger, "whoami")

    os.kill(worker.process.pid, signal.SIGKILL)  # the supervisor alone

    wait_for(lambda: not any(alive(pid) for pid in children), 20, what="its processes ending")
    assert row(ledger, task.id).status is TaskStatus.FINISHED  # the orphan finished and wrote its outcome
    time.sleep(0.5)
    assert row(ledger, later.id).status is TaskStatus.QUEUED


def test_kinds_of_worker_are_exclusive_and_pool_options_need_the_pool(ledger_env, start_worker):
    both = start_worker("--simple", "--concurrency", "2")
    assert both.wait(30) == 2 and "--simple and --concurrency are different kinds of worker" in both.output
    alone = start_worker("--max-tasks-per-child", "3")
    assert alone.wait(30) == 2 and "need --concurrency N" in alone.output
