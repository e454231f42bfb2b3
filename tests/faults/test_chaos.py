"""2 workers, many tasks (5% raising, Retry(max=2)), a random work-horse SIGKILLed every 2-3 s:
nothing lost, nothing ends twice, nothing stuck. The same for the pooled worker (`--concurrency 2`), whose
long-lived processes are SIGKILLed at random instead (busy or not: a process taking its next job too).

The issue asks for 2,000 tasks, and that is the default: on 2 cores they take 1-2 minutes with
the kills (a forking worker on a PostgreSQL ledger costs ~40-50 ms of CPU per job).
RQLEDGER_FAULTS_TASKS=600 (or fewer) gives a quicker run while working on this suite.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter

import pytest

from rqledger.application.tasks import TaskRequest
from tests.faults.processes import kill_quietly, processes, wait_for

TASKS = int(os.environ.get("RQLEDGER_FAULTS_TASKS", "2000"))


class HorseKiller(threading.Thread):
    """Every 2-3 s, SIGKILLs the work-horse of a random worker that has one (the first to have one)."""

    def __init__(self, workers):
        super().__init__(daemon=True)
        self.workers = workers
        self.kills = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        rng = random.Random(8)
        while not self.stopping.wait(rng.uniform(2, 3)):
            # a worker is between two work-horses part of the time (writing the ledger, taking the next
            # job): look again for up to a second rather than let this round pass without a kill
            for _ in range(100):
                if self._kill_one(rng) or self.stopping.wait(0.01):
                    break

    def _kill_one(self, rng) -> bool:
        for worker in rng.sample(self.workers, len(self.workers)):
            horse = worker.horse()
            if horse and kill_quietly(horse):
                self.kills += 1
                return True
        return False

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)


class ChildKiller(HorseKiller):
    """The same for a pooled worker: every 2-3 s, SIGKILLs one of its long-lived processes at random."""

    def _kill_one(self, rng) -> bool:
        children = [proc.pid for worker in self.workers for proc in processes() if proc.ppid == worker.pid]
        if children and kill_quietly(rng.choice(children)):
            self.kills += 1
            return True
        return False


KINDS = {"forking": ((), HorseKiller, "the work-horse running it died"),
         "pooled": (("--concurrency", "2"), ChildKiller, "the worker process running it died")}


@pytest.mark.parametrize("kind", list(KINDS))
def test_thousands_of_tasks_with_work_horses_killed_at_random_lose_nothing(system, note, kind):
    arguments, killer_class, died = KINDS[kind]
    system.start_scheduler()  # the reconciler, for what a kill leaves behind outside the workers' view
    # two forking workers, or one pooled worker of two processes
    workers = [system.start_worker(*arguments)] if arguments else [system.start_worker(), system.start_worker()]
    killer = killer_class(workers)
    began = time.monotonic()
    # 20 ms in the function: a kill lands mid-task more often than in the ledger writes around it
    ids = system.enqueue_many([TaskRequest("chaotic", [i, 0.02]) for i in range(1, TASKS + 1)])
    enqueued_in = time.monotonic() - began
    killer.start()
    try:
        # ~80 s on 2 cores; the wait ends before pytest-timeout (300 s) so a stuck task is shown, not a stack
        wait_for(lambda: system.ledger.all_ended(ids), max(90, min(TASKS / 4, 240)), interval=0.5,
                 what="every task to end",
                 details=lambda: f"{system.ledger.unended(ids)}\n{system.services.output()}")
    finally:
        killer.stop()
    took = time.monotonic() - began

    rows = system.ledger.rows(ids)
    statuses = Counter(row.status for row in rows.values())
    double = [row.id for row in rows.values() if row.double_terminal()]
    raising = [row for row in rows.values() if row.args[0] % 20 == 0]
    others = [row for row in rows.values() if row.args[0] % 20 != 0]
    killed_rows = [row for row in rows.values() if died in row.log]
    # a non-raising task fails only when a kill struck each of its three attempts
    unlucky = [row for row in others if row.status != "finished"]
    assert all(died in row.log and row.attempts == 3 for row in unlucky), unlucky[:3]
    assert all(row.status == "failed" and "chaotic" in row.log for row in raising)
    assert statuses["queued"] == statuses["running"] == 0, statuses
    assert len(rows) == TASKS and not double
    assert all(row.attempts == len(row.outcomes) for row in rows.values())
    assert killer.kills >= took / 3 - 2 and killed_rows, (killer.kills, took)
    assert all(worker.alive() for worker in workers)

    histogram = Counter(row.attempts for row in rows.values())
    note(f"[{kind}] {TASKS} tasks on {'2 workers' if kind == 'forking' else 'a pool of 2 processes'} (PostgreSQL ledger), enqueued in {enqueued_in:.2f} s, all ended after "
         f"{took:.1f} s ({TASKS / took:.0f} tasks/s with the kills)")
    redelivered = sum(w.output.count("its job failed before an attempt began") for w in workers)
    note(f"{'work-horses' if kind == 'forking' else 'pooled processes'} SIGKILLed: {killer.kills}; rows whose attempt a kill ended: {len(killed_rows)}; "
         f"deliveries killed before their attempt began (delivered again): {redelivered}; the rest struck after "
         f"the outcome was written")
    note(f"statuses: {dict(statuses)}; raising (5%): {len(raising)} failed after 3 attempts")
    note(f"lost: 0; double-terminal: {len(double)}; stuck queued/running: {statuses['queued'] + statuses['running']}; "
         f"non-raising tasks failed by kills on all 3 attempts: {len(unlucky)}")
    note("attempts histogram: " + ", ".join(f"{n} attempt(s): {histogram[n]}" for n in sorted(histogram)))
    note(f"refused late writes: {sum(len(r.refused_late_writes()) for r in rows.values())}")
