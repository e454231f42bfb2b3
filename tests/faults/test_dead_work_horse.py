"""A work-horse SIGKILLed mid-task (as by the OOM killer): its worker records it on the row at once."""

from __future__ import annotations

import time

from tests.faults.processes import kill_quietly, wait_for


def kill_the_horse_of(system, worker, task_id: int) -> float:
    """Waits until `task_id` runs in `worker`'s work-horse, SIGKILLs the horse; the time of the kill."""
    wait_for(lambda: system.ledger.status(task_id) == "running" and worker.horse(), 30,
             what=f"task {task_id} to run", details=system.services.output)
    time.sleep(0.3)  # well inside the function now
    assert kill_quietly(worker.horse())
    return time.monotonic()


def test_a_killed_work_horse_fails_the_row_or_retries_it_within_5_seconds(system, note, tmp_path):
    worker = system.start_worker()
    detections = {"failed": [], "retried": []}
    for round_ in range(3):
        plain = system.enqueue("sleepy", 30)  # no retry policy: failed
        killed_at = kill_the_horse_of(system, worker, plain)
        wait_for(lambda: system.ledger.status(plain) == "failed", 5, what="the row to fail",
                 details=system.services.output)
        detections["failed"].append(time.monotonic() - killed_at)

        patient = system.enqueue("sleepy_once", str(tmp_path / f"marker-{round_}"), 30)  # Retry(max=1)
        killed_at = kill_the_horse_of(system, worker, patient)
        wait_for(lambda: system.ledger.status(patient) in ("queued", "finished")
                 and system.ledger.rows([patient])[patient].attempts >= 1
                 and "attempt 1 failed" in system.ledger.rows([patient])[patient].log, 5,
                 what="the row to be requeued", details=system.services.output)
        detections["retried"].append(time.monotonic() - killed_at)
        wait_for(lambda: system.ledger.status(patient) == "finished", 15, what="the retry to finish",
                 details=system.services.output)

    rows = system.ledger.rows()
    for row in rows.values():
        assert not row.double_terminal(), row.log
        if row.name == "sleepy":
            assert row.status == "failed" and row.attempts == 1
            assert "the work-horse running it died by signal 9" in row.log
        else:
            assert row.status == "finished" and row.attempts == 2 and row.outcomes == {1: ["failed"], 2: ["finished"]}
    assert system.ledger.statuses()["running"] == 0
    assert worker.alive()
    for kind, seconds in detections.items():
        note(f"kill -> row {kind}: " + ", ".join(f"{s:.2f} s" for s in seconds) + f" (max {max(seconds):.2f} s)")
    note(f"rows stuck running: {system.ledger.statuses()['running']}")
