"""Missed firings become `missed` runs, and each schedule's catch-up policy decides what runs late.

The memory scheduler and ledger against a clock moved by hand: "the scheduler was down" is the clock jumping
past firings before `fire_due` is called again (the same rules as `rqledger scheduler`: application.catch_up).
"""

from datetime import datetime, timedelta, timezone

import pytest

from rqledger.application.catch_up import plan_catch_up
from rqledger.application.registry import task
from rqledger.application.schedules import ScheduleRequest
from rqledger.adapters.cron import CroniterCalendar
from rqledger.domain.errors import InvalidSchedule
from rqledger.domain.schedule import CatchUp, RunStatus, ScheduleStatus, Timing

AT = datetime(2026, 12, 10, 3, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def calls(registry):
    made = []

    @task(registry=registry)
    def nightly(label: str) -> dict:
        made.append(label)
        return {"label": label}

    return made


def every(seconds: int, catch_up: str | None = None, repeat: int | None = None) -> ScheduleRequest:
    return ScheduleRequest("nightly", ["x"], at=AT, interval=seconds, repeat=repeat, catch_up=catch_up)


def down_across(service, schedule_id: int, firings: int, seconds: int) -> None:
    """Fires the first firing on time, then moves the clock past `firings` more (nobody fires them) and a bit."""
    service.clock.set(AT)
    assert service.fire_due() == 1
    service.clock.set(AT + timedelta(seconds=seconds * firings + seconds // 2))


def runs(service, schedule_id: int) -> list:
    return sorted(service.list_runs(schedule_id, limit=500).items, key=lambda r: r.scheduled_at)


def slots(seconds: int, *numbers: int) -> list[datetime]:
    return [AT + timedelta(seconds=seconds * n) for n in numbers]


def test_under_skip_every_missed_firing_is_a_missed_run_and_nothing_runs_late(service, calls):
    service.clock.set(AT - timedelta(seconds=1))
    schedule, _ = service.register_schedule(every(60, "skip"))
    down_across(service, schedule.id, 3, 60)
    assert service.fire_due() == 0
    recorded = runs(service, schedule.id)
    assert [(r.scheduled_at, r.status) for r in recorded] == [
        (AT, RunStatus.FINISHED), *((slot, RunStatus.MISSED) for slot in slots(60, 1, 2, 3))]
    assert calls == ["x"]
    missed = recorded[1]
    assert missed.ended_at == service.clock.now() and "no scheduler fired it" in missed.log
    parent = service.get_schedule(schedule.id)[0]
    assert parent.next_run_at == AT + timedelta(seconds=240)  # the grid goes on
    assert parent.last_run.status is RunStatus.MISSED and parent.status is ScheduleStatus.RUNNING


def test_under_latest_the_newest_missed_firing_runs_now_saying_how_late(service, calls):
    service.clock.set(AT - timedelta(seconds=1))
    schedule, _ = service.register_schedule(every(60))  # latest: the default
    assert schedule.catch_up is CatchUp.LATEST
    down_across(service, schedule.id, 3, 60)
    assert service.fire_due() == 1
    recorded = runs(service, schedule.id)
    assert [(r.scheduled_at, r.status) for r in recorded] == [
        (AT, RunStatus.FINISHED), (slots(60, 1)[0], RunStatus.MISSED), (slots(60, 2)[0], RunStatus.MISSED),
        (slots(60, 3)[0], RunStatus.FINISHED)]
    late = recorded[-1]
    assert late.log == "ran 30 s after its time, after the scheduler was down"
    assert late.started_at - late.scheduled_at == timedelta(seconds=30)
    assert calls == ["x", "x"]


def test_under_all_each_missed_firing_runs_late_and_none_is_missed(service, calls):
    service.clock.set(AT - timedelta(seconds=1))
    schedule, _ = service.register_schedule(every(60, "all"))
    down_across(service, schedule.id, 3, 60)
    assert service.fire_due() == 3
    assert [r.status for r in runs(service, schedule.id)] == [RunStatus.FINISHED] * 4
    assert len(calls) == 4


def test_a_firing_late_by_less_than_the_grace_is_an_ordinary_firing(service, calls):
    service.clock.set(AT - timedelta(seconds=1))
    schedule, _ = service.register_schedule(every(60, "skip"))
    service.clock.set(AT + timedelta(seconds=1))
    assert service.fire_due() == 1
    [run] = runs(service, schedule.id)
    assert run.status is RunStatus.FINISHED and run.log == ""


def test_only_the_newest_n_missed_firings_are_rows_and_the_rest_one_line_of_the_schedule_log(service, calls):
    service.scheduler.max_missed = 10
    service.clock.set(AT - timedelta(seconds=1))
    schedule, _ = service.register_schedule(every(60, "skip"))
    down_across(service, schedule.id, 25, 60)
    service.fire_due()
    missed = [r for r in runs(service, schedule.id) if r.status is RunStatus.MISSED]
    assert [r.scheduled_at for r in missed] == slots(60, *range(16, 26))
    parent = service.get_schedule(schedule.id)[0]
    assert parent.log.count("\n") == 0
    assert "15 firing(s) from 2026-12-10T03:01:00+00:00 until before 2026-12-10T03:16:00+00:00" in parent.log
    assert parent.runs_started == 26 and parent.next_run_at == AT + timedelta(seconds=60 * 26)


def test_all_runs_at_most_n_late(service, calls):
    service.scheduler.max_missed = 2
    service.clock.set(AT - timedelta(seconds=1))
    schedule, _ = service.register_schedule(every(60, "all"))
    down_across(service, schedule.id, 5, 60)
    assert service.fire_due() == 2
    assert [r.scheduled_at for r in runs(service, schedule.id)][1:] == slots(60, 4, 5)
    assert "3 firing(s)" in service.get_schedule(schedule.id)[0].log


def test_a_bounded_schedule_whose_last_firings_were_missed_under_skip_ends(service, calls):
    service.clock.set(AT - timedelta(seconds=1))
    schedule, _ = service.register_schedule(every(60, "skip", repeat=3))
    down_across(service, schedule.id, 5, 60)
    assert service.fire_due() == 0
    assert [r.status for r in runs(service, schedule.id)] == [RunStatus.FINISHED, RunStatus.MISSED, RunStatus.MISSED]
    parent = service.get_schedule(schedule.id)[0]
    assert parent.status is ScheduleStatus.DEATH and parent.next_run_at is None
    assert service.scheduler.jobs == {}


def test_a_missed_row_and_a_real_run_of_the_same_firing_never_both_exist(service, calls):
    service.clock.set(AT - timedelta(seconds=1))
    schedule, _ = service.register_schedule(every(60, "skip"))
    down_across(service, schedule.id, 2, 60)
    service.fire_due()
    late_delivery = service.run_schedule(schedule.id, slots(60, 1)[0])  # its firing job after all
    assert late_delivery is None and calls == ["x"]
    again = plan_catch_up(Timing(at=AT, interval=60), CatchUp.SKIP, slots(60, 1)[0], 1, CroniterCalendar(),
                          service.clock.now())
    assert service.runs.record_missed(schedule.id, again) == []  # a second scheduler's catch-up: nothing new
    assert len(runs(service, schedule.id)) == 3


def test_a_cron_schedule_down_overnight_shows_the_night_s_firing_missed(service, calls):
    service.clock.set(datetime(2026, 12, 9, 22, 0, tzinfo=timezone.utc))
    schedule, _ = service.register_schedule(ScheduleRequest("nightly", ["cron"], cron="0 3 * * *", catch_up="skip"))
    service.clock.set(datetime(2026, 12, 10, 7, 30, tzinfo=timezone.utc))  # every scheduler down from 02:00 to 07:30
    service.fire_due()
    [run] = runs(service, schedule.id)
    assert (run.scheduled_at, run.status) == (datetime(2026, 12, 10, 3, 0, tzinfo=timezone.utc), RunStatus.MISSED)
    assert service.get_schedule(schedule.id)[0].next_run_at == datetime(2026, 12, 11, 3, 0, tzinfo=timezone.utc)


def test_registering_again_takes_the_new_policy_and_an_unknown_one_is_refused(service, calls):
    schedule, _ = service.register_schedule(every(60, "skip"))
    assert schedule.catch_up is CatchUp.SKIP
    assert service.register_schedule(every(60, "all"))[0].catch_up is CatchUp.ALL
    with pytest.raises(InvalidSchedule, match="'catch_up' must be one of skip, latest, all") as caught:
        service.register_schedule(every(60, "sometimes"))
    assert caught.value.field == "catch_up"
