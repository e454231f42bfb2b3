"""A whole worker SIGKILLed mid-task: the reconciler (in `rqledger scheduler`) notices the missing
heartbeat and ends or retries its task; a work-horse left running as an orphan is refused when it
finally reports, and the refusal is counted in the row's log."""

from __future__ import annotations

import time

from tests.faults.processes import wait_for


def running_on(system, worker, task_id: int) -> None:
    name = system.worker_name(worker)
    wait_for(lambda: system.ledger.status(task_id) == "running" and worker.horse()
             and name in system.ledger.rows([task_id])[task_id].log, 30,
             what=f"task {task_id} to run on {name}", details=system.services.output)


def test_a_killed_worker_ends_its_task_within_60_s_and_its_orphan_is_refused(system, note, tmp_path):
    system.start_scheduler()
    whole = system.start_worker()
    doomed = system.enqueue("sleepy", 60)  # no retry policy: failed once its worker is found dead
    running_on(system, whole, doomed)
    parent_only = system.start_worker()
    orphaned = system.enqueue("sleepy_once", str(tmp_path / "marker"), 10)  # Retry(max=1); 10 s, then quick
    running_on(system, parent_only, orphaned)
    orphan_pid = parent_only.horse()

    time.sleep(0.5)
    whole.kill_all()  # parent, work-horse and RQ's scheduler child
    parent_only.kill()  # the parent only: its work-horse runs on
    killed_at = time.monotonic()
    assert orphan_pid in parent_only.session()
    system.start_worker()  # someone to run the retry

    wait_for(lambda: system.ledger.status(doomed) == "failed", 60, what="the dead worker's task to fail",
             details=system.services.output)
    failed_after = time.monotonic() - killed_at
    wait_for(lambda: "attempt 1 failed" in system.ledger.rows([orphaned])[orphaned].log, 60,
             what="the orphaned attempt to be ended", details=system.services.output)
    retried_after = time.monotonic() - killed_at
    wait_for(lambda: system.ledger.status(orphaned) == "finished", 30, what="the retry to finish",
             details=system.services.output)
    finished_after = time.monotonic() - killed_at
    # the orphan finishes its 10 s and reports: refused, and counted in the log
    wait_for(lambda: system.ledger.rows([orphaned])[orphaned].refused_late_writes(), 30,
             what="the orphan's late write to be refused", details=system.services.output)
    refused_after = time.monotonic() - killed_at

    rows = system.ledger.rows()
    dead, late = rows[doomed], rows[orphaned]
    assert dead.status == "failed" and dead.attempts == 1 and "is gone (no heartbeat)" in dead.log
    assert late.status == "finished" and late.attempts == 2
    assert late.outcomes == {1: ["failed"], 2: ["finished"]}
    assert late.refused_late_writes() == [("finish", 1)]
    assert "the reconciler ended the attempt" in late.log
    assert not dead.double_terminal() and not late.double_terminal()
    assert system.ledger.statuses()["running"] == 0

    note(f"worker SIGKILLed with its work-horse: row failed {failed_after:.1f} s after the kill")
    note(f"worker parent SIGKILLed, work-horse orphaned: attempt 1 ended {retried_after:.1f} s after the kill, "
         f"retry finished at {finished_after:.1f} s, the orphan's late finish refused at {refused_after:.1f} s")
    note(f"terminal transitions per attempt: at most 1; late writes refused and logged: "
         f"{sum(len(r.refused_late_writes()) for r in rows.values())}")
    note("(RQLEDGER_WORKER_TTL=5 s, reconciler every 1 s; with the defaults, 30 s and 15 s: within 45 s)")
