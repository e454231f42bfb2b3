"""A whole worker SIGKILLed mid-task: the reconciler (in `rqledger scheduler`) notices the missing
heartbeat and ends or retries its task. A worker whose MAIN process alone is killed leaves its
work-horse running as an orphan: the reconciler waits for the orphan's own sign of life, and the
orphan records its outcome on its own attempt (no retry beside it, no late write refused)."""

from __future__ import annotations

import time

from tests.faults.processes import wait_for


def running_on(system, worker, task_id: int) -> None:
    name = system.worker_name(worker)
    wait_for(lambda: system.ledger.status(task_id) == "running" and worker.horse()
             and name in system.ledger.rows([task_id])[task_id].log, 30,
             what=f"task {task_id} to run on {name}", details=system.services.output)


def test_a_killed_worker_ends_its_task_within_60_s_and_its_orphan_keeps_its_attempt(system, note, tmp_path):
    system.start_scheduler()
    whole = system.start_worker()
    doomed = system.enqueue("sleepy", 60)  # no retry policy: failed once its worker is found dead
    running_on(system, whole, doomed)
    parent_only = system.start_worker()
    orphaned = system.enqueue("sleepy_once", str(tmp_path / "marker"), 15)  # Retry(max=1); 15 s, then quick
    running_on(system, parent_only, orphaned)
    orphan_pid = parent_only.horse()

    time.sleep(0.5)
    whole.kill_all()  # parent, work-horse and RQ's scheduler child
    parent_only.kill()  # the parent only: its work-horse runs on
    killed_at = time.monotonic()
    assert orphan_pid in parent_only.session()
    system.start_worker()  # an idle worker, which a retry of the orphaned task would go to

    wait_for(lambda: system.ledger.status(doomed) == "failed", 60, what="the dead worker's task to fail",
             details=system.services.output)
    failed_after = time.monotonic() - killed_at
    # both workers were judged dead at about the same time: the orphan's attempt was left to it
    waiting = system.ledger.rows([orphaned])[orphaned]
    assert waiting.status == "running" and waiting.attempts == 1, waiting.log
    assert orphan_pid in parent_only.session()
    wait_for(lambda: system.ledger.status(orphaned) == "finished", 30, what="the orphan to finish its attempt",
             details=system.services.output)
    finished_after = time.monotonic() - killed_at

    rows = system.ledger.rows()
    dead, kept = rows[doomed], rows[orphaned]
    assert dead.status == "failed" and dead.attempts == 1 and "is gone (no heartbeat)" in dead.log
    assert kept.status == "finished" and kept.attempts == 1
    assert kept.outcomes == {1: ["finished"]}
    assert kept.refused_late_writes() == [] and "the reconciler" not in kept.log
    assert not dead.double_terminal() and not kept.double_terminal()
    assert system.ledger.statuses()["running"] == 0
    assert (tmp_path / "marker").exists()  # the function ran once: a second run would have returned at once

    note(f"worker SIGKILLed with its work-horse: row failed {failed_after:.1f} s after the kill")
    note(f"worker parent SIGKILLed, work-horse orphaned: still running when the other row failed, then finished "
         f"by the orphan itself at {finished_after:.1f} s (attempts: 1, late writes refused: 0)")
    note(f"terminal transitions per attempt: at most 1; late writes refused and logged: "
         f"{sum(len(r.refused_late_writes()) for r in rows.values())}")
    note("(RQLEDGER_WORKER_TTL=5 s, reconciler every 1 s; with the defaults, 30 s and 15 s: within 45 s)")
