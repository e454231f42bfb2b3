"""Priorities and paused queues on the memory adapters: the use cases, the workers' view, the Python API."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from rqledger import Ledger, Priority, UnknownQueue, task
from rqledger.adapters.memory.queue_pauses import InMemoryQueuePauses
from rqledger.application.queues import PauseWatch, waiting_reasons
from rqledger.domain.errors import InvalidArguments
from rqledger.domain.queue import QueuePause
from rqledger.domain.task import Task, TaskStatus

AT = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)


@task(priority="low", name="unit_low_by_default")
def low_by_default() -> str:
    return "low"


@task(name="unit_plain")
def plain(label: str) -> str:
    return label


class Ticks:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_watch_reads_at_most_once_per_period_unless_asked_fresh():
    pauses, ticks = InMemoryQueuePauses(), Ticks()
    watch = PauseWatch(pauses, every=1.0, monotonic=ticks)
    assert watch.paused() == frozenset() and pauses.reads == 1
    pauses.pause(QueuePause("default", AT))
    ticks.now = 0.5
    assert watch.paused() == frozenset() and pauses.reads == 1  # within the period: the last answer
    assert watch.paused(fresh=True) == {"default"} and pauses.reads == 2
    pauses.resume("default")
    ticks.now = 1.6
    assert watch.paused() == frozenset() and pauses.reads == 3


def test_the_watch_keeps_the_last_known_pauses_when_the_ledger_cannot_be_read():
    pauses, ticks = InMemoryQueuePauses(), Ticks()
    pauses.pause(QueuePause("default", AT))
    watch = PauseWatch(pauses, every=1.0, monotonic=ticks)
    assert watch.paused() == {"default"}
    pauses.available = False
    ticks.now = 5
    assert watch.paused() == {"default"}  # never resumed by a database that blinked


def test_waiting_reasons_name_only_queued_tasks_of_paused_queues():
    pauses = InMemoryQueuePauses()
    pauses.pause(QueuePause("reports", AT, "ops", "the API is down"))
    queued = Task(name="x", queue="reports", id=1)
    running = Task(name="x", queue="reports", id=2, status=TaskStatus.RUNNING)
    elsewhere = Task(name="x", queue="default", id=3)
    assert waiting_reasons([queued, running, elsewhere], pauses) == {
        1: "queue 'reports' is paused (since 2026-12-05T09:00:00+00:00, by ops: the API is down)"}
    pauses.available = False
    assert waiting_reasons([queued], pauses) == {}  # a listing still answers without the reasons


def test_a_paused_in_memory_ledger_holds_tasks_then_runs_the_high_ones_first():
    ledger = Ledger.in_memory()
    pause = ledger.pause_queue("default", reason="deploy", by="ci")
    assert (pause.queue, pause.reason, pause.by) == ("default", "deploy", "ci")
    assert ledger.pause_queue("default", reason="again").reason == "deploy"  # the first pause stands
    lows = [ledger.enqueue("unit_low_by_default") for _ in range(2)]
    normal = plain.using(ledger=ledger).enqueue("n")
    high = plain.using(ledger=ledger, priority="high").enqueue("h")
    assert [t.priority for t in (*lows, normal, high)] == [Priority.LOW, Priority.LOW, Priority.NORMAL, Priority.HIGH]
    assert {ledger.get(t.id).status for t in (*lows, normal, high)} == {TaskStatus.QUEUED}
    [state] = ledger.queues()
    assert state.pause is not None and state.waiting == {"high": 1, "normal": 1, "low": 2} and state.queued == 4

    assert ledger.resume_queue("default").reason == "deploy"
    assert ledger.resume_queue("default") is None
    done = [ledger.wait(t.id, timeout=5) for t in (high, normal, *lows)]
    started = [t.started_at for t in done]
    assert started == sorted(started)  # high, then normal, then the lows in their order


def test_bad_priorities_and_queues_are_refused_with_a_message():
    ledger = Ledger.in_memory()
    with pytest.raises(InvalidArguments, match="'priority' must be one of high, normal, low, got 'urgent'"):
        ledger.enqueue("unit_plain", ["x"], priority="urgent")
    with pytest.raises(UnknownQueue, match="queue 'nope' is not served here"):
        ledger.pause_queue("nope")
    with pytest.raises(InvalidArguments, match="'reason' must be text of at most 500 characters"):
        ledger.pause_queue("default", reason="x" * 501)
    with pytest.raises(ValueError, match="'priority' must be one of"):
        task(priority="first", name="unit_never")(lambda: None)


def test_queue_names_that_would_clash_with_the_priority_queues_are_refused():
    from rqledger.entrypoints.settings import load_settings

    with pytest.raises(ValueError, match="may not end in ':high' or ':low'"):
        load_settings({"RQLEDGER_QUEUES": "default,reports:high"})


def test_the_rq_names_of_a_queues_levels_and_the_order_workers_take_them_in():
    from rqledger.adapters.rq.queue import listening_order, queue_and_priority, rq_queue_name

    assert [rq_queue_name("mail", p) for p in Priority] == ["mail:high", "mail", "mail:low"]
    assert listening_order(["a", "b"]) == ["a:high", "b:high", "a", "b", "a:low", "b:low"]
    assert [queue_and_priority(n) for n in ("a:high", "a", "a:low", ":high")] == [
        ("a", Priority.HIGH), ("a", Priority.NORMAL), ("a", Priority.LOW), (":high", Priority.NORMAL)]
