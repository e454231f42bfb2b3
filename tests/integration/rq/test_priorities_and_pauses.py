"""Issue 19 items 3-4 with real `rqledger worker` processes on a SQL ledger and a private Redis database:
a high task overtakes low ones on a busy worker; a paused queue runs nothing until resumed, across a worker
restart, and a job that reaches a worker just after its queue was paused goes back unrun."""

from __future__ import annotations

import signal
import time

import pytest
from rq import Queue

from rqledger.application.tasks import TaskRequest
from rqledger.domain.task import TaskStatus
from tests.integration.rq.processes import wait_for

pytestmark = pytest.mark.integration


def enqueue(ledger, name, *args, **options):
    return ledger.enqueue_task()(TaskRequest(name, list(args), {}, **options))


def status(ledger, task) -> TaskStatus:
    return ledger.get_task()(task.id).status


def ended(ledger, tasks):
    return lambda: all(status(ledger, t) is TaskStatus.FINISHED for t in tasks)


def test_a_high_task_enqueued_after_fifty_low_ones_on_a_busy_worker_runs_before_them(ledger, start_worker):
    busy = enqueue(ledger, "nap", 1.5)
    worker = start_worker()
    wait_for(lambda: status(ledger, busy) is TaskStatus.RUNNING, 30, what="the first task running",
             details=lambda: worker.output[-3000:])
    low = [enqueue(ledger, "answer", priority="low") for _ in range(50)]
    high = enqueue(ledger, "answer", priority="high")
    assert status(ledger, busy) is TaskStatus.RUNNING  # all 51 were queued while the worker was busy

    wait_for(ended(ledger, [busy, high, *low]), 90, what="all 52 tasks finishing",
             details=lambda: worker.output[-3000:])

    started = {t.id: ledger.get_task()(t.id).started_at for t in [high, *low]}
    assert started[high.id] < min(started[t.id] for t in low)
    lows_in_order = [t.id for t in sorted(low, key=lambda t: started[t.id])]
    assert lows_in_order == [t.id for t in low]  # within a level, first queued, first run
    assert ledger.get_task()(high.id).priority.value == "high"


def test_a_paused_queue_runs_nothing_until_resumed_even_across_a_worker_restart(ledger, start_worker):
    ledger.pause_queue()("default", by="test", reason="maintenance")
    held = [enqueue(ledger, "answer") for _ in range(3)]
    elsewhere = enqueue(ledger, "answer", queue="other")
    worker = start_worker()
    wait_for(ended(ledger, [elsewhere]), 30, what="the other queue's task finishing",
             details=lambda: worker.output[-3000:])
    time.sleep(2.5)  # more than a pause re-check (2 s): the worker looked again and still took nothing
    assert [status(ledger, t) for t in held] == [TaskStatus.QUEUED] * 3

    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    worker = start_worker()
    time.sleep(3)
    assert [status(ledger, t) for t in held] == [TaskStatus.QUEUED] * 3, worker.output[-3000:]
    rq_waiting = Queue("default", connection=ledger.rq_connection()).count
    assert rq_waiting == 3  # the jobs stayed in Redis, where the ledger says they wait

    started = time.monotonic()
    ledger.resume_queue()("default")
    wait_for(ended(ledger, held), 30, what="the held tasks finishing after the resume",
             details=lambda: worker.output[-3000:])
    assert time.monotonic() - started < 10
    assert all(ledger.get_task()(t.id).attempts == 1 for t in held)


def test_a_job_that_reaches_a_waiting_worker_just_after_its_queue_was_paused_goes_back_unrun(ledger, start_worker):
    worker = start_worker()
    first = enqueue(ledger, "answer")
    wait_for(ended(ledger, [first]), 30, what="a first task (the worker is up and waiting)",
             details=lambda: worker.output[-3000:])
    time.sleep(0.5)  # the worker is blocked waiting on its queues, which were not paused when it began
    ledger.pause_queue()("default")
    late = enqueue(ledger, "answer")
    wait_for(lambda: "put back: queue default was paused" in worker.output, 15,
             what="the worker putting the job back", details=lambda: worker.output[-3000:])
    time.sleep(2.5)
    assert status(ledger, late) is TaskStatus.QUEUED
    assert ledger.get_task()(late.id).attempts == 0

    ledger.resume_queue()("default")
    wait_for(ended(ledger, [late]), 15, what="the task finishing after the resume",
             details=lambda: worker.output[-3000:])
