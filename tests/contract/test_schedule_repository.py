"""The ScheduleRepository contract: parents found by their natural key, runs recorded once per firing."""

from datetime import timedelta, timezone

import pytest

from rqledger.application.ports import ScheduleQuery
from rqledger.domain.errors import ConcurrentUpdate, DuplicateRun, RunNotFound, ScheduleNotFound
from rqledger.domain.schedule import LastRun, RunStatus, ScheduledTaskInstance, ScheduleStatus, Timing
from tests.contract.builders import NOW, a_schedule, add_schedule, later


def test_a_schedule_comes_back_with_every_field(new_uow):
    stored = add_schedule(new_uow)
    uow = new_uow()
    with uow:
        schedule = uow.schedules.get(stored.id)
    assert (schedule.name, schedule.args, schedule.kwargs, schedule.description) == (
        "report", [1], {"to": "bob"}, "a report")
    assert schedule.timing == Timing(at=NOW, interval=60, repeat=5)
    assert schedule.timing.at.tzinfo == timezone.utc
    assert (schedule.status, schedule.runs_started, schedule.next_run_at, schedule.last_run) == (
        ScheduleStatus.RUNNING, 0, NOW, None)


def test_a_cron_schedule_keeps_its_expression_and_time_zone(new_uow):
    stored = add_schedule(new_uow, timing=Timing(cron="*/5 * * * *", timezone="Asia/Seoul"))
    uow = new_uow()
    with uow:
        assert uow.schedules.get(stored.id).timing == Timing(cron="*/5 * * * *", timezone="Asia/Seoul")


def test_a_missing_schedule_is_named(uow):
    with uow, pytest.raises(ScheduleNotFound, match="schedule 999999 does not exist"):
        uow.schedules.get(999999)


def test_a_schedule_is_found_by_name_args_and_kwargs(new_uow):
    stored = add_schedule(new_uow, kwargs={"to": "bob", "cc": "한글"})
    add_schedule(new_uow, args=[2])
    uow = new_uow()
    with uow:
        assert uow.schedules.find("report", [1], {"cc": "한글", "to": "bob"}).id == stored.id
        assert uow.schedules.find("report", [1], {"to": "bob"}) is None
        assert uow.schedules.find("other", [1], {"to": "bob", "cc": "한글"}) is None


def test_a_saved_schedule_keeps_its_last_run_and_job(new_uow):
    stored = add_schedule(new_uow)
    uow = new_uow()
    with uow:
        schedule = uow.schedules.get(stored.id)
        schedule.runs_started = 1
        schedule.last_run = LastRun(RunStatus.FAILED, NOW, later(1))
        schedule.job_id = "job-1"
        schedule.next_run_at = later(60)
        uow.schedules.save(schedule)
        uow.commit()
    with uow:
        schedule = uow.schedules.get(stored.id)
    assert schedule.last_run == LastRun(RunStatus.FAILED, NOW, later(1))
    assert (schedule.runs_started, schedule.job_id, schedule.next_run_at) == (1, "job-1", later(60))


def test_two_writers_on_one_schedule_cannot_both_win(new_uow):
    schedule_id = add_schedule(new_uow).id
    first, second = new_uow(), new_uow()
    with first, second:
        canceled = first.schedules.get(schedule_id)
        failed = second.schedules.get(schedule_id)
        canceled.cancel()
        failed._move(ScheduleStatus.FAILED)
        first.schedules.save(canceled)
        first.commit()
        with pytest.raises(ConcurrentUpdate, match=f"schedule {schedule_id} cannot go from death to failed"):
            second.schedules.save(failed)


def test_deleting_a_schedule_deletes_its_runs(new_uow):
    schedule_id = add_schedule(new_uow).id
    uow = new_uow()
    with uow:
        run = uow.schedules.add_run(ScheduledTaskInstance(schedule_id, NOW, NOW))
        uow.commit()
    with uow:
        uow.schedules.delete(schedule_id)
        uow.commit()
    with uow:
        with pytest.raises(ScheduleNotFound):
            uow.schedules.get(schedule_id)
        with pytest.raises(RunNotFound):
            uow.schedules.get_run(run.id)
        with pytest.raises(ScheduleNotFound):
            uow.schedules.delete(schedule_id)


def test_listing_schedules_is_newest_first_filtered_and_paged(new_uow):
    ids = [add_schedule(new_uow, args=[n]).id for n in range(4)]
    other = add_schedule(new_uow, name="other").id
    uow = new_uow()
    with uow:
        schedule = uow.schedules.get(ids[0])
        schedule.cancel()
        uow.schedules.save(schedule)
        uow.commit()
    with uow:
        first = uow.schedules.list(ScheduleQuery(name="report", limit=2))
        rest = uow.schedules.list(ScheduleQuery(name="report", limit=2, before_id=first.next_cursor))
        dead = uow.schedules.list(ScheduleQuery(statuses=frozenset({ScheduleStatus.DEATH})))
        everything = uow.schedules.list(ScheduleQuery())
    assert [s.id for s in first.items] == [ids[3], ids[2]] and first.next_cursor == ids[2]
    assert [s.id for s in rest.items] == [ids[1], ids[0]] and rest.next_cursor is None
    assert [s.id for s in dead.items] == [ids[0]]
    assert [s.id for s in everything.items] == [other, *ids[::-1]]


def test_a_run_round_trips(new_uow):
    schedule_id = add_schedule(new_uow).id
    uow = new_uow()
    with uow:
        run = ScheduledTaskInstance(schedule_id, NOW, later(1))
        run.worker = "w1"
        uow.schedules.add_run(run)
        uow.commit()
    with uow:
        run = uow.schedules.get_run(run.id)
        assert (run.schedule_id, run.scheduled_at, run.started_at, run.status, run.worker) == (
            schedule_id, NOW, later(1), RunStatus.RUNNING, "w1")
        run.set_progress(50)
        uow.schedules.save_run(run)
        run.finish({"rows": 3, "note": "한글데이터"}, later(2))
        uow.schedules.save_run(run)
        uow.commit()
    with uow:
        run = uow.schedules.get_run(run.id)
    assert (run.status, run.progress, run.result, run.ended_at) == (
        RunStatus.FINISHED, 100, {"rows": 3, "note": "한글데이터"}, later(2))


def test_a_missing_run_is_named(uow):
    with uow, pytest.raises(RunNotFound, match="run 999999 does not exist"):
        uow.schedules.get_run(999999)


def test_the_same_firing_is_recorded_once_and_the_transaction_goes_on(new_uow):
    schedule_id = add_schedule(new_uow).id
    uow = new_uow()
    with uow:
        uow.schedules.add_run(ScheduledTaskInstance(schedule_id, NOW, NOW))
        uow.commit()
    with uow:
        with pytest.raises(DuplicateRun, match=f"schedule {schedule_id} already has a run for"):
            uow.schedules.add_run(ScheduledTaskInstance(schedule_id, NOW, later(1)))
        # the surrounding transaction is still usable: these land
        next_run = uow.schedules.add_run(ScheduledTaskInstance(schedule_id, later(60), later(60)))
        schedule = uow.schedules.get(schedule_id)
        schedule.runs_started = 2
        uow.schedules.save(schedule)
        uow.commit()
    with uow:
        assert uow.schedules.get_run(next_run.id).scheduled_at == later(60)
        assert uow.schedules.get(schedule_id).runs_started == 2
        assert len(uow.schedules.list_runs(schedule_id).items) == 2


def test_firings_a_microsecond_apart_are_different_runs(new_uow):
    schedule_id = add_schedule(new_uow).id
    uow = new_uow()
    with uow:
        uow.schedules.add_run(ScheduledTaskInstance(schedule_id, NOW, NOW))
        uow.schedules.add_run(ScheduledTaskInstance(schedule_id, NOW + timedelta(microseconds=1), NOW))
        uow.commit()
    with uow:
        times = sorted(run.scheduled_at for run in uow.schedules.list_runs(schedule_id).items)
    assert times == [NOW, NOW + timedelta(microseconds=1)]


def test_the_same_time_on_two_schedules_is_two_runs(new_uow):
    first, second = add_schedule(new_uow, args=[1]).id, add_schedule(new_uow, args=[2]).id
    uow = new_uow()
    with uow:
        uow.schedules.add_run(ScheduledTaskInstance(first, NOW, NOW))
        uow.schedules.add_run(ScheduledTaskInstance(second, NOW, NOW))
        uow.commit()


def test_runs_are_listed_newest_first_per_schedule_with_a_cursor(new_uow):
    schedule_id = add_schedule(new_uow, args=[1]).id
    other_id = add_schedule(new_uow, args=[2]).id
    uow = new_uow()
    with uow:
        ids = [uow.schedules.add_run(ScheduledTaskInstance(schedule_id, later(n), later(n))).id for n in range(5)]
        uow.schedules.add_run(ScheduledTaskInstance(other_id, NOW, NOW))
        uow.commit()
    with uow:
        first = uow.schedules.list_runs(schedule_id, limit=3)
        rest = uow.schedules.list_runs(schedule_id, limit=3, before_id=first.next_cursor)
    assert [r.id for r in first.items] == ids[::-1][:3] and first.next_cursor == ids[2]
    assert [r.id for r in rest.items] == ids[::-1][3:] and rest.next_cursor is None


def test_deleting_a_run_keeps_the_parent_its_last_run_and_the_other_runs(new_uow):
    schedule_id = add_schedule(new_uow).id
    uow = new_uow()
    with uow:
        doomed = uow.schedules.add_run(ScheduledTaskInstance(schedule_id, NOW, NOW))
        kept = uow.schedules.add_run(ScheduledTaskInstance(schedule_id, later(60), later(60)))
        schedule = uow.schedules.get(schedule_id)
        schedule.last_run = LastRun(RunStatus.FINISHED, NOW, later(1))
        uow.schedules.save(schedule)
        uow.commit()
    with uow:
        uow.schedules.delete_run(doomed.id)
        uow.commit()
    with uow:
        with pytest.raises(RunNotFound, match=f"run {doomed.id} does not exist"):
            uow.schedules.get_run(doomed.id)
        assert [r.id for r in uow.schedules.list_runs(schedule_id).items] == [kept.id]
        assert uow.schedules.get(schedule_id).last_run == LastRun(RunStatus.FINISHED, NOW, later(1))


def test_a_deleted_run_is_gone_only_on_commit(new_uow):
    schedule_id = add_schedule(new_uow).id
    uow = new_uow()
    with uow:
        run = uow.schedules.add_run(ScheduledTaskInstance(schedule_id, NOW, NOW))
        uow.commit()
    with uow:
        uow.schedules.delete_run(run.id)
    with uow:
        assert uow.schedules.get_run(run.id).id == run.id


def test_deleting_a_missing_run_is_named(uow):
    with uow, pytest.raises(RunNotFound, match="run 999999 does not exist"):
        uow.schedules.delete_run(999999)
