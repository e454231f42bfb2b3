"""Missed runs and catch-up policies in storage, on every implementation: memory, SQLite, PostgreSQL, MariaDB."""

import pytest

from rqledger.domain.errors import DuplicateRun
from rqledger.domain.schedule import CatchUp, LastRun, RunStatus
from tests.contract.builders import NOW, add_schedule, later


@pytest.mark.parametrize("policy", list(CatchUp))
def test_a_schedule_keeps_its_catch_up_policy_and_its_log(new_uow, policy):
    stored = add_schedule(new_uow, catch_up=policy)
    uow = new_uow()
    with uow:
        schedule = uow.schedules.get(stored.id)
        assert schedule.catch_up is policy and schedule.log == ""
        schedule.note("3 firing(s) missed, not recorded")
        schedule.note("한글 line two")
        uow.schedules.save(schedule)
        uow.commit()
    with uow:
        assert uow.schedules.get(stored.id).log == "3 firing(s) missed, not recorded\n한글 line two"


def test_a_missed_run_comes_back_missed_and_counts_on_the_parent(new_uow):
    stored = add_schedule(new_uow)
    uow = new_uow()
    with uow:
        schedule = uow.schedules.get(stored.id)
        run = uow.schedules.add_run(schedule.missed_run(later(60), later(100), "missed: nobody fired it"))
        schedule.count_missed(run)
        uow.schedules.save(schedule)
        uow.commit()
    with uow:
        [back] = uow.schedules.list_runs(stored.id).items
        parent = uow.schedules.get(stored.id)
        counts = uow.schedules.count_runs_by_schedule_and_status()
    assert (back.status, back.scheduled_at, back.started_at, back.ended_at, back.log) == (
        RunStatus.MISSED, later(60), later(100), later(100), "missed: nobody fired it")
    assert parent.last_run == LastRun(RunStatus.MISSED, later(60), later(100)) and parent.runs_started == 1
    assert counts == {(stored.id, "report", RunStatus.MISSED): 1}


@pytest.mark.parametrize("first", ["missed", "run"])
def test_a_missed_row_and_a_real_run_of_one_firing_cannot_both_be_stored(new_uow, first):
    stored = add_schedule(new_uow)
    slot = later(60)
    one, other = new_uow(), new_uow()  # two processes: a scheduler catching up, a worker starting the firing
    with one, other:
        records = {"missed": lambda uow: uow.schedules.get(stored.id).missed_run(slot, later(90), "missed"),
                   "run": lambda uow: uow.schedules.get(stored.id).start_run(slot, later(90))}
        second = "run" if first == "missed" else "missed"
        one.schedules.add_run(records[first](one))
        one.commit()
        with pytest.raises(DuplicateRun):
            other.schedules.add_run(records[second](other))
    with new_uow() as uow:
        [kept] = uow.schedules.list_runs(stored.id).items
    assert kept.status is (RunStatus.MISSED if first == "missed" else RunStatus.RUNNING)
    assert kept.scheduled_at == slot and NOW < slot
