import itertools
from datetime import datetime, timedelta, timezone

import pytest

from rqledger.domain.errors import IllegalTransition, InvalidSchedule
from rqledger.domain.schedule import (RUN_TRANSITIONS, SCHEDULE_TRANSITIONS, RunStatus, ScheduledTask, ScheduledTaskInstance,
                             ScheduleStatus, Timing)

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def parent(total_runs: int | None = None) -> ScheduledTask:
    timing = Timing(at=NOW, interval=10, repeat=total_runs) if total_runs != 1 else Timing(at=NOW)
    return ScheduledTask(name="t", timing=timing, id=3)


def run_of(schedule: ScheduledTask, status: RunStatus, n: int = 0) -> ScheduledTaskInstance:
    if status is RunStatus.MISSED:  # created missed (recorded after its time), never started
        run = schedule.missed_run(NOW + timedelta(seconds=10 * n), NOW, "missed")
        run.id = n + 1
        return run
    run = schedule.start_run(NOW + timedelta(seconds=10 * n), NOW)
    run.id = n + 1
    {RunStatus.FINISHED: lambda: run.finish(1, NOW), RunStatus.FAILED: lambda: run.fail("boom", NOW),
     RunStatus.CANCELED: lambda: run.cancel(NOW), RunStatus.RUNNING: lambda: None}[status]()
    return run


@pytest.mark.parametrize("current,target", list(itertools.product(RunStatus, RunStatus)))
def test_every_run_status_pair_follows_the_table(current, target):
    run = run_of(parent(), current)
    verbs = {RunStatus.FINISHED: lambda: run.finish(1, NOW), RunStatus.FAILED: lambda: run.fail("x", NOW),
             RunStatus.CANCELED: lambda: run.cancel(NOW), RunStatus.RUNNING: None, RunStatus.MISSED: None}
    if verbs[target] is None:
        return  # nothing leads to running or missed: a run is created running, or missed
    if target in RUN_TRANSITIONS[current]:
        verbs[target]()
        assert run.status is target
    else:
        with pytest.raises(IllegalTransition, match=f"run 1 cannot go from {current.value} to {target.value}"):
            verbs[target]()


@pytest.mark.parametrize("current,target", list(itertools.product(ScheduleStatus, ScheduleStatus)))
def test_every_schedule_status_pair_follows_the_table(current, target):
    schedule = parent()
    schedule.status = current
    if target in SCHEDULE_TRANSITIONS[current]:
        schedule._move(target)
        assert schedule.status is target
    else:
        with pytest.raises(IllegalTransition, match=f"schedule 3 cannot go from {current.value} to {target.value}"):
            schedule._move(target)


def test_a_failed_run_fails_the_parent_and_a_finished_one_revives_it():
    schedule = parent()
    schedule.run_ended(run_of(schedule, RunStatus.FAILED, 0))
    assert schedule.status is ScheduleStatus.FAILED
    schedule.run_ended(run_of(schedule, RunStatus.FINISHED, 1))
    assert schedule.status is ScheduleStatus.RUNNING
    assert schedule.last_run.status is RunStatus.FINISHED


def test_an_exhausted_schedule_dies_after_a_finished_last_run():
    schedule = parent(total_runs=2)
    for n in range(2):
        schedule.run_ended(run_of(schedule, RunStatus.FINISHED, n))
    assert schedule.status is ScheduleStatus.DEATH


def test_an_exhausted_schedule_whose_last_run_failed_stays_failed():
    schedule = parent(total_runs=1)
    schedule.run_ended(run_of(schedule, RunStatus.FAILED))
    assert schedule.status is ScheduleStatus.FAILED


def test_a_canceled_schedule_is_death_and_cannot_start_runs():
    schedule = parent()
    schedule.cancel()
    assert schedule.status is ScheduleStatus.DEATH
    with pytest.raises(IllegalTransition, match="canceled or exhausted"):
        schedule.start_run(NOW, NOW)


def test_a_run_ending_after_cancel_leaves_the_parent_dead():
    schedule = parent()
    run = schedule.start_run(NOW, NOW)
    schedule.cancel()
    run.fail("boom", NOW)
    schedule.run_ended(run)
    assert schedule.status is ScheduleStatus.DEATH


def test_revive_brings_a_dead_schedule_back_with_its_new_timing():
    schedule = parent()
    schedule.cancel()
    schedule.revive(Timing(cron="*/5 * * * *"))
    assert schedule.status is ScheduleStatus.RUNNING
    assert schedule.timing.kind == "cron"


@pytest.mark.parametrize("kwargs,field", [
    ({}, "at"),
    ({"at": datetime(2026, 1, 1)}, "at"),
    ({"at": NOW, "interval": -1}, "interval"),
    ({"at": NOW, "interval": 5, "repeat": 0}, "repeat"),
    ({"at": NOW, "repeat": 3}, "repeat"),
    ({"cron": "* * * * *", "at": NOW}, "cron"),
    ({"cron": "  "}, "cron"),
])
def test_bad_timing_names_the_field(kwargs, field):
    with pytest.raises(InvalidSchedule) as caught:
        Timing(**kwargs)
    assert caught.value.field == field
