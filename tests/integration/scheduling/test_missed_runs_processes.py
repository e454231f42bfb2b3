"""The issue's acceptance: the only `rqledger scheduler` is stopped across three firings of a 2-second schedule
and started again; the firings nobody fired are `missed` runs (skip), or missed but the newest run late (latest),
and two schedulers started after the gap record each firing once. Real scheduler and worker processes, Redis
(a database of the test's own) and a SQLite ledger file of the test's own (the `system` fixture)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from rqledger.domain.schedule import RunStatus, ScheduleStatus
from tests.integration.scheduling.processes import wait_for
from tests.integration.scheduling.test_processes import System, system  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

EVERY = 2  # seconds
FIRINGS = 4  # the first fires on time, the scheduler is down for the other three


def down_across_three_firings(system: System, policy: str):
    """A 2-second schedule of 4 firings whose first runs on time; then its only scheduler is stopped until
    the last three have passed. The parent and the times of its firings."""
    scheduler = system.start_scheduler()
    system.start_worker()
    at = datetime.now(timezone.utc) + timedelta(seconds=1)
    parent = system.register("sched_tick", [policy], at=at, interval=EVERY, repeat=FIRINGS, catch_up=policy)
    slots = [at + timedelta(seconds=EVERY * n) for n in range(FIRINGS)]
    system.ended_runs(parent.id, 1)
    assert system.procs.terminate(scheduler) == 0
    assert datetime.now(timezone.utc) < slots[1], "the scheduler stopped too late for the test to mean anything"
    time.sleep(max(0.0, (slots[-1] - datetime.now(timezone.utc)).total_seconds()) + 0.5)
    return parent, slots


def settled(system: System, schedule_id: int) -> list:
    system.ended_runs(schedule_id, FIRINGS)
    time.sleep(0.5)  # nothing more comes
    return system.runs(schedule_id)


@pytest.mark.parametrize("policy, expected", [
    ("skip", [RunStatus.FINISHED, RunStatus.MISSED, RunStatus.MISSED, RunStatus.MISSED]),
    ("latest", [RunStatus.FINISHED, RunStatus.MISSED, RunStatus.MISSED, RunStatus.FINISHED]),
])
def test_a_restarted_scheduler_records_the_firings_it_missed(system, policy, expected):
    parent, slots = down_across_three_firings(system, policy)
    restarted = datetime.now(timezone.utc)
    system.start_scheduler()
    runs = settled(system, parent.id)
    assert [r.scheduled_at for r in runs] == slots, system.procs.output()
    assert [r.status for r in runs] == expected, [r.log for r in runs]
    assert all("no scheduler fired it at its time" in r.log and r.ended_at >= restarted
               for r in runs if r.status is RunStatus.MISSED)
    if policy == "latest":
        late = runs[-1]
        assert late.started_at >= restarted and late.result == {"label": "latest"}
        assert late.log.startswith("ran ") and late.log.endswith(" s after its time, after the scheduler was down")
    parent = system.schedule(parent.id)[0]
    assert parent.status is ScheduleStatus.DEATH and parent.next_run_at is None and parent.runs_started == FIRINGS
    assert system.triggers() == []
    assert "missed" in system.procs.output()  # the scheduler says so in its log too


def test_two_schedulers_started_after_the_gap_record_each_missed_firing_once(system):
    parent, slots = down_across_three_firings(system, "latest")
    before = system.procs.output().count(" started: a pass every")
    both = [system.procs.start("scheduler", "--interval", "0.2") for _ in range(2)]  # at once: both catch up
    wait_for(lambda: system.procs.output().count(" started: a pass every") >= before + 2, timeout=30,
             what="both schedulers to start")
    assert all(proc.poll() is None for proc in both), system.procs.output()
    runs = settled(system, parent.id)
    assert [r.scheduled_at for r in runs] == slots, system.procs.output()
    assert [r.status for r in runs] == [RunStatus.FINISHED, RunStatus.MISSED, RunStatus.MISSED, RunStatus.FINISHED]
    assert system.rows("rqledger_scheduled_task_runs", parent.id) == FIRINGS
    assert [r.result for r in runs if r.status is RunStatus.FINISHED] == [{"label": "latest"}] * 2
