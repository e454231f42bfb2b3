"""Issue 19 items 1-2, with real `rqledger worker` processes on a SQL ledger and a private Redis database:
concurrency across workers, per owner, a dead worker's slot, and a rate limit."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from rqledger.application.tasks import TaskRequest
from rqledger.domain.task import TaskStatus
from tests.integration.rq.processes import wait_for

pytestmark = pytest.mark.integration

WORKER_TTL = 4  # seconds: a slot's lease, renewed every second


@pytest.fixture
def ledger_env(ledger_env):
    return {**ledger_env, "RQLEDGER_WORKER_TTL": str(WORKER_TTL)}


def enqueue(ledger, name, *args, owner=None):
    return ledger.enqueue_task()(TaskRequest(name, list(args), {}, owner=owner))


def row(ledger, task_id):
    return ledger.get_task()(task_id)


def all_finished(ledger, tasks):
    return lambda: all(row(ledger, t.id).status is TaskStatus.FINISHED for t in tasks)


def spans(folder: Path, labels) -> dict[str, tuple[float, float]]:
    return {label: (float((folder / f"{label}.start").read_text().split()[0]),
                    float((folder / f"{label}.end").read_text())) for label in labels}


def overlapping(spans_: list[tuple[float, float]]) -> list:
    ordered = sorted(spans_)
    return [(a, b) for a, b in zip(ordered, ordered[1:]) if b[0] < a[1]]


@pytest.mark.parametrize("worker_args", [(), ("--simple",)], ids=["forking", "simple"])
def test_a_type_of_concurrency_one_never_runs_twice_at_once_across_three_workers(ledger, start_worker, tmp_path,
                                                                                 worker_args):
    labels = [f"t{n}" for n in range(6)]
    tasks = [enqueue(ledger, "one_at_a_time", str(tmp_path), label, 0.3) for label in labels]
    other = enqueue(ledger, "answer")  # behind them in the queue: a waiting type never holds a worker
    workers = [start_worker(*worker_args) for _ in range(3)]

    wait_for(all_finished(ledger, tasks), 60, what="the six tasks finishing",
             details=lambda: "\n".join(w.output[-3000:] for w in workers))

    ran = spans(tmp_path, labels)
    assert overlapping(list(ran.values())) == []
    assert row(ledger, other.id).ended_at < max(row(ledger, t.id).ended_at for t in tasks)
    waited = [row(ledger, t.id) for t in tasks if "waiting for a concurrency slot" in row(ledger, t.id).log]
    assert waited  # some found the slot taken, and each said so once per wait
    assert all(t.log.count("waiting for a concurrency slot: 1 of 1 running") == 1 for t in waited)
    assert all(t.attempts == 1 for t in (row(ledger, t.id) for t in tasks))  # waiting is no attempt


def test_each_owner_runs_one_at_a_time_and_two_owners_side_by_side(ledger, start_worker, tmp_path):
    labels = {owner: [f"{owner}{n}" for n in range(2)] for owner in ("alice", "bob")}
    tasks = [enqueue(ledger, "one_per_owner", str(tmp_path), label, 1.0, owner=owner)
             for pair in zip(*([(o, l) for l in ls] for o, ls in labels.items())) for owner, label in pair]
    workers = [start_worker() for _ in range(3)]

    wait_for(all_finished(ledger, tasks), 60, what="the four tasks finishing",
             details=lambda: "\n".join(w.output[-3000:] for w in workers))

    alice, bob = (spans(tmp_path, labels[o]) for o in ("alice", "bob"))
    assert overlapping(list(alice.values())) == [] and overlapping(list(bob.values())) == []
    assert overlapping([*alice.values(), *bob.values()])  # alice's and bob's ran side by side


def test_a_killed_worker_frees_its_slot_within_the_worker_ttl(ledger, start_worker, tmp_path):
    doomed = start_worker("--without-scheduler")  # RQ's scheduler lock is not held by the worker that dies
    held = enqueue(ledger, "one_at_a_time", str(tmp_path), "held", 60)
    wait_for(lambda: (tmp_path / "held.start").exists(), 30, what="the first task starting",
             details=lambda: doomed.output)
    horse = int((tmp_path / "held.start").read_text().split()[1])

    survivor = start_worker()
    waiting = enqueue(ledger, "one_at_a_time", str(tmp_path), "next", 0.1)
    wait_for(lambda: "waiting for a concurrency slot: 1 of 1 running" in row(ledger, waiting.id).log, 30,
             what="the second task waiting for the slot", details=lambda: survivor.output)
    # the running attempt renews its lease (WORKER_TTL s) every second: its slot outlives the first lease
    time.sleep(max(0.0, float((tmp_path / "held.start").read_text().split()[0]) + 1.5 * WORKER_TTL - time.time()))
    assert not (tmp_path / "next.start").exists()

    doomed.kill()  # the worker, then its work-horse (a process group of its own): a machine gone
    os.kill(horse, signal.SIGKILL)
    killed = time.time()

    wait_for(lambda: (tmp_path / "next.start").exists(), WORKER_TTL + 6, what="the second task starting",
             details=lambda: survivor.output)
    waited = float((tmp_path / "next.start").read_text().split()[0]) - killed
    assert WORKER_TTL - 2 <= waited <= WORKER_TTL + 4  # the dead attempt's lease ran out, no sooner
    assert row(ledger, held.id).status is TaskStatus.RUNNING  # the reconciler's business, not the limiter's
    # its work-horse (a process group of its own) must be done before this Redis database is flushed
    wait_for(all_finished(ledger, [waiting]), 10, what="the second task finishing", details=lambda: survivor.output)


def test_a_rate_limited_type_never_starts_more_than_its_rate_in_any_window(ledger, start_worker, tmp_path):
    labels = [f"r{n}" for n in range(6)]
    tasks = [enqueue(ledger, "two_per_three_seconds", str(tmp_path), label) for label in labels]
    workers = [start_worker() for _ in range(2)]

    wait_for(all_finished(ledger, tasks), 60, what="the six tasks finishing",
             details=lambda: "\n".join(w.output[-3000:] for w in workers))

    starts = sorted(start for start, _ in spans(tmp_path, labels).values())
    # "2/3s": no third start within 3 s of the one two before it (a little slack: the start is counted in
    # Redis a few milliseconds before the task function notes the time)
    assert all(later - earlier >= 3 - 0.25 for earlier, later in zip(starts, starts[2:])), starts
    assert any("rate limit 2/3s reached" in row(ledger, t.id).log for t in tasks)
