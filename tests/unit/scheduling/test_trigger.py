"""The firing arithmetic of a schedule's trigger, against a clock that only moves when told."""

from datetime import datetime, timedelta, timezone

import pytest

from rqledger.adapters.cron import CroniterCalendar
from rqledger.adapters.memory import FixedClock
from rqledger.adapters.scheduler.trigger import Trigger, run_job_id, trigger_job_id
from rqledger.domain.schedule import ScheduledTask, ScheduleStatus, Timing

T0 = datetime(2026, 3, 1, 8, 59, 30, tzinfo=timezone.utc)
calendar = CroniterCalendar()


@pytest.fixture
def clock():
    return FixedClock(T0)


def parent(timing: Timing, **fields) -> ScheduledTask:
    return ScheduledTask(name="report", timing=timing, id=7, **fields)


def firings(trigger: Trigger, clock: FixedClock, limit: int = 10) -> list[datetime]:
    """Fires the trigger each time it is due, moving the clock to each due time; the times fired."""
    fired = []
    while trigger is not None and len(fired) < limit:
        clock.set(max(clock.now(), trigger.next_at))
        fired.append(trigger.next_at)
        trigger = trigger.after_firing(calendar, clock.now())
    return fired


def test_at_plus_one_second_every_second_repeat_3_fires_three_times_on_the_grid(clock):
    at = T0 + timedelta(seconds=1)
    trigger = Trigger.for_schedule(parent(Timing(at=at, interval=1, repeat=3)), calendar, clock.now())
    assert firings(trigger, clock) == [at, at + timedelta(seconds=1), at + timedelta(seconds=2)]


def test_a_one_off_fires_once(clock):
    at = T0 + timedelta(hours=1)
    trigger = Trigger.for_schedule(parent(Timing(at=at)), calendar, clock.now())
    assert firings(trigger, clock) == [at]


def test_an_at_in_the_past_fires_at_once_then_keeps_to_the_interval_grid(clock):
    at = T0 - timedelta(seconds=95)  # grid: ..., T0-35, T0+25, T0+85
    trigger = Trigger.for_schedule(parent(Timing(at=at, interval=60, repeat=3)), calendar, clock.now())
    assert firings(trigger, clock) == [T0, T0 + timedelta(seconds=25), T0 + timedelta(seconds=85)]


def test_a_late_bounded_schedule_delivers_every_firing(clock):
    trigger = Trigger.for_schedule(parent(Timing(at=T0, interval=10, repeat=3)), calendar, clock.now())
    clock.advance(3600)  # the scheduler was down for an hour
    fired = []
    while trigger is not None:
        fired.append(trigger.next_at)
        trigger = trigger.after_firing(calendar, clock.now())
    assert fired == [T0, T0 + timedelta(seconds=10), T0 + timedelta(seconds=20)]


def test_a_late_unbounded_schedule_fires_once_for_the_missed_times_then_resumes_on_the_grid(clock):
    trigger = Trigger.for_schedule(parent(Timing(at=T0, interval=10)), calendar, clock.now())
    clock.advance(3605)
    following = trigger.after_firing(calendar, clock.now())
    assert following.next_at == T0 + timedelta(seconds=3610)
    assert following.fired == 1


def test_cron_fires_at_each_minute_boundary(clock):
    trigger = Trigger.for_schedule(parent(Timing(cron="* * * * *")), calendar, clock.now())
    assert firings(trigger, clock, limit=3) == [
        datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc),
        datetime(2026, 3, 1, 9, 1, tzinfo=timezone.utc),
        datetime(2026, 3, 1, 9, 2, tzinfo=timezone.utc),
    ]


def test_cron_is_read_in_the_schedule_time_zone(clock):
    trigger = Trigger.for_schedule(parent(Timing(cron="0 9 * * *", timezone="Asia/Seoul")), calendar, clock.now())
    # 09:00 in Seoul is 00:00 UTC; at 08:59:30 UTC the next is tomorrow's
    assert firings(trigger, clock, limit=2) == [datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc),
                                                datetime(2026, 3, 3, 0, 0, tzinfo=timezone.utc)]


def test_cron_that_fell_behind_skips_to_the_next_time_after_now(clock):
    trigger = Trigger.for_schedule(parent(Timing(cron="*/5 * * * *")), calendar, clock.now())
    assert trigger.next_at == datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    clock.set(datetime(2026, 3, 1, 11, 2, tzinfo=timezone.utc))
    assert trigger.after_firing(calendar, clock.now()).next_at == datetime(2026, 3, 1, 11, 5, tzinfo=timezone.utc)


def test_the_trigger_continues_the_ledger_where_it_stands(clock):
    at = T0 + timedelta(seconds=1)
    ledger = parent(Timing(at=at, interval=1, repeat=3), runs_started=2, next_run_at=at + timedelta(seconds=2))
    trigger = Trigger.for_schedule(ledger, calendar, clock.now())
    assert (trigger.fired, trigger.next_at) == (2, at + timedelta(seconds=2))
    assert firings(trigger, clock) == [at + timedelta(seconds=2)]


@pytest.mark.parametrize("ledger", [
    parent(Timing(at=T0), status=ScheduleStatus.DEATH),
    parent(Timing(at=T0, interval=1, repeat=3), runs_started=3),
    parent(Timing(at=T0), runs_started=1, status=ScheduleStatus.FAILED),
])
def test_a_dead_or_used_up_parent_has_no_trigger(clock, ledger):
    assert Trigger.for_schedule(ledger, calendar, clock.now()) is None


def test_a_failed_parent_that_fires_again_keeps_its_trigger(clock):
    ledger = parent(Timing(cron="0 * * * *"), runs_started=4, status=ScheduleStatus.FAILED)
    assert Trigger.for_schedule(ledger, calendar, clock.now()).next_at == datetime(2026, 3, 1, 9, tzinfo=timezone.utc)


@pytest.mark.parametrize("timing", [
    Timing(at=datetime(2026, 3, 1, 18, 0, 0, 250000, tzinfo=timezone(timedelta(hours=9))), interval=60, repeat=2),
    Timing(cron="0 9 * * 1-5", timezone="Europe/Paris"),
])
def test_the_trigger_survives_its_json_meta(clock, timing):
    trigger = Trigger.for_schedule(parent(timing), calendar, clock.now(), timeout=600)
    assert Trigger.from_meta(trigger.to_meta()) == trigger


def test_each_firing_has_a_job_id_of_its_own_and_the_trigger_one_per_schedule():
    first, second = T0, T0 + timedelta(seconds=1)
    assert run_job_id(7, first) != run_job_id(7, second)
    assert run_job_id(7, first) == run_job_id(7, first)
    assert run_job_id(7, first) != run_job_id(8, first)
    assert trigger_job_id(7) == "schedule-7"
