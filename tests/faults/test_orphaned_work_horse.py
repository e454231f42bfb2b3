"""Worker MAIN processes SIGKILLed mid-task, 20 times: each work-horse runs on as an orphan. Never do two
attempts of a task run at once, and never is a run whose function completed recorded failed: the reconciler
waits for the orphan's own sign of life and the orphan records its outcome itself.

Each task writes the start and the end of every run (attempt, pid, time) to a file of its own; the audit
compares those with the ledger. Tasks last 8 s, longer than a dead worker takes to be noticed (5 s
RQLEDGER_WORKER_TTL + a 1 s reconciler pass), so a reconciler that judged by the worker alone would end
each attempt while its orphan still runs (and, for the tasks with a retry, start the next one beside it).
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import redis as redis_lib

from rqledger.adapters.rq import RqJobInspector
from rqledger.adapters.rq.liveness import LifeSign, running_tasks
from tests.faults.processes import wait_for

KILLS = int(os.environ.get("RQLEDGER_FAULTS_KILLS", "20"))
SECONDS = 8.0  # each task's run


@dataclass
class Run:
    attempt: int | None
    pid: int
    start: float
    end: float | None = None  # None: the function never completed


def runs_of(path: Path) -> list[Run]:
    runs: dict[tuple[str, str], Run] = {}
    if not path.exists():
        return []
    for line in path.read_text().splitlines():
        what, attempt, pid, moment = line.split()
        key = (attempt, pid)
        if what == "start":
            runs[key] = Run(None if attempt == "None" else int(attempt), int(pid), float(moment))
        else:
            runs[key].end = float(moment)
    return sorted(runs.values(), key=lambda run: run.start)


def overlaps(runs: list[Run]) -> int:
    """Pairs of runs of one task that were running at the same moment (an unfinished run never ends)."""
    count = 0
    for i, earlier in enumerate(runs):
        for later in runs[i + 1:]:
            if earlier.end is None or later.start < earlier.end:
                count += 1
    return count


def test_killed_worker_processes_never_leave_two_attempts_running_nor_fail_a_completed_run(system, note, tmp_path):
    rng = random.Random(15)
    system.start_scheduler()
    workers = [system.start_worker(), system.start_worker()]
    files: dict[int, Path] = {}
    killed_at: dict[int, float] = {}
    kills = near_the_end = 0
    began = time.monotonic()
    while kills < KILLS:
        name = "timed_retry" if len(files) % 2 == 0 else "timed"  # half with an immediate retry
        path = tmp_path / f"runs-{len(files)}.txt"
        task_id = system.enqueue(name, str(path), SECONDS)
        files[task_id] = path
        wait_for(lambda: system.ledger.status(task_id) == "running" and path.exists(), 30,
                 what=f"task {task_id} to run", details=system.services.output)
        worker = next((w for w in workers if w.horse() and system.worker_name(w)
                       and system.worker_name(w) in system.ledger.rows([task_id])[task_id].log), None)
        assert worker is not None, system.services.output()
        horse = worker.horse()
        # mostly early in the run (the orphan outlives the worker's liveness period); one kill in four near
        # the end, where the function returns and the outcome is being written
        late = rng.random() < 0.25
        offset = SECONDS + rng.uniform(-0.08, 0.04) if late else rng.uniform(0.1, 2.0)
        time.sleep(max(0.0, runs_of(path)[0].start + offset - time.time()))
        if worker.horse() != horse:
            continue  # its run ended before the kill: no orphan this round, another task is enqueued
        worker.kill()  # the MAIN process only: its work-horse runs on
        kills += 1
        near_the_end += late
        killed_at[task_id] = time.monotonic()
        assert horse in worker.session()  # orphaned, alive
        workers.remove(worker)
        workers.append(system.start_worker())
    killing_took = time.monotonic() - began

    ids = list(files)
    wait_for(lambda: system.ledger.all_ended(ids), 90, interval=0.5, what="every task to end",
             details=lambda: f"{system.ledger.statuses(ids)}\n{system.services.output()}")
    ended_after = time.monotonic() - began

    rows = system.ledger.rows(ids)
    runs = {task_id: runs_of(path) for task_id, path in files.items()}
    overlapping = sum(overlaps(r) for r in runs.values())
    unfinished = sum(1 for r in runs.values() for run in r if run.end is None)
    # a run whose function completed, on an attempt the ledger recorded failed
    completed_but_failed = [(task_id, run.attempt) for task_id, r in runs.items() for run in r
                            if run.end is not None and "failed" in rows[task_id].outcomes.get(run.attempt, [])]
    ended_by_reconciler = [row.id for row in rows.values() if "the reconciler ended the attempt" in row.log]
    refused = sum(len(row.refused_late_writes()) for row in rows.values())
    attempts = sum(row.attempts for row in rows.values())
    statuses = {s: sum(1 for row in rows.values() if row.status == s) for s in ("finished", "failed")}

    note(f"{kills} worker main processes SIGKILLed mid-task ({near_the_end} within ~0.1 s of the function's end), "
         f"each leaving its work-horse to run on; {len(ids)} tasks of {SECONDS:g} s (half with Retry(max=1, "
         f"interval=0)), 2 workers; kills took {killing_took:.0f} s, all ended after {ended_after:.0f} s")
    note(f"attempts: {attempts} for {len(ids)} tasks; runs: {sum(len(r) for r in runs.values())} "
         f"(unfinished: {unfinished}); overlapping runs of one task: {overlapping}; "
         f"completed runs recorded failed: {len(completed_but_failed)}")
    note(f"statuses: {statuses}; attempts the reconciler ended: {len(ended_by_reconciler)}; "
         f"late outcomes refused: {refused}")
    note("(RQLEDGER_WORKER_TTL=5 s, reconciler every 1 s: a worker is judged dead ~5-6 s after its kill, "
         "the orphan still had up to 8 s to run)")

    assert overlapping == 0, runs
    assert not completed_but_failed, completed_but_failed
    assert unfinished == 0, runs
    assert all(row.status == "finished" and row.attempts == 1 for row in rows.values()), \
        [(row.id, row.status, row.attempts, row.log) for row in rows.values() if row.attempts != 1]
    assert not ended_by_reconciler and refused == 0
    assert all(not row.double_terminal() for row in rows.values())
    assert system.ledger.statuses()["running"] == 0


def test_a_work_horse_s_sign_of_life_lasts_while_renewed_and_stops_at_its_deadline(redis_server):
    connection = redis_lib.Redis.from_url(redis_server.url)
    life = LifeSign(connection, 7, "worker-1/abc", every=0.2)
    life.sign()  # by the worker, before the fork
    assert running_tasks(connection, [7, 8], worker_ttl=1) == {7}
    overdue = threading.Event()
    life.keep_up(limit=1.5, on_overdue=overdue.set)  # in the work-horse: renewed every 0.2 s for 1.5 s
    time.sleep(1.0)
    assert RqJobInspector(connection, worker_ttl=0.5).still_running(7)  # renewed since the first sign
    assert overdue.wait(3)  # past its deadline the work-horse is killed (here: told), and signs no more
    time.sleep(0.7)
    assert not RqJobInspector(connection, worker_ttl=0.5).still_running(7)
    life.end()
    assert connection.zcard("rqledger:running:7") == 0
    connection.close()
