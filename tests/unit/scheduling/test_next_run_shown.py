"""The next run a schedule shows (`next_run_at`) is the one its trigger will really fire, catch-up included.

Each test fires the real trigger (adapters/scheduler/trigger.py) against a clock moved by hand, records each
firing's run as a worker does (ScheduledRuns.start), and compares the ledger's next_run_at with the trigger's.
"""

from datetime import datetime, timedelta, timezone

import pytest

from rqledger.adapters.scheduler.trigger import Trigger
from rqledger.application.registry import task
from rqledger.application.schedules import ScheduleRequest

AT = datetime(2026, 12, 4, 16, 0, 0, tzinfo=timezone.utc)


def at(clock_time: str) -> datetime:
    hours, minutes, seconds = (int(part) for part in clock_time.split(":"))
    return AT.replace(hour=hours, minute=minutes, second=seconds)


@pytest.fixture
def report(registry):
    @task(registry=registry)
    def report() -> dict:
        return {}


def register(service, request: ScheduleRequest):
    schedule, _ = service.register_schedule(request)
    return Trigger.for_schedule(schedule, service.runs.calendar, service.clock.now()), schedule.id


def fire(service, trigger: Trigger, schedule_id: int) -> Trigger | None:
    """The scheduler's pass at the clock's now: hands the firing over and moves the trigger on; the worker then
    records the run."""
    following = trigger.after_firing(service.runs.calendar, service.clock.now())
    assert service.runs.start(schedule_id, trigger.next_at) is not None
    return following


def shown(service, schedule_id: int) -> datetime | None:
    return service.get_schedule(schedule_id)[0].next_run_at


def test_the_issue_an_interval_registered_after_its_at_shows_the_grid_time_it_will_fire_at(service, report):
    service.clock.set(at("16:22:41"))
    trigger, schedule_id = register(service, ScheduleRequest("report", at=AT, interval=20, repeat=5))
    assert shown(service, schedule_id) == at("16:22:41")  # an `at` in the past fires at once
    fired = []
    while trigger is not None:
        service.clock.set(max(service.clock.now(), trigger.next_at))
        fired.append(trigger.next_at)
        trigger = fire(service, trigger, schedule_id)
        assert shown(service, schedule_id) == (trigger.next_at if trigger else None)
    assert fired == [at("16:22:41"), at("16:23:00"), at("16:23:20"), at("16:23:40"), at("16:24:00")]


def test_a_bounded_schedule_that_fell_behind_shows_each_late_firing_it_still_delivers(service, report):
    service.clock.set(AT - timedelta(seconds=5))
    trigger, schedule_id = register(service, ScheduleRequest("report", at=AT, interval=10, repeat=4))
    service.clock.set(AT + timedelta(hours=1))  # the scheduler was down for an hour: every firing comes, late
    expected = [AT + timedelta(seconds=10), AT + timedelta(seconds=20), AT + timedelta(seconds=30), None]
    for following in expected:
        trigger = fire(service, trigger, schedule_id)
        assert shown(service, schedule_id) == following == (trigger.next_at if trigger else None)


@pytest.mark.parametrize("timing, late_by, following", [
    (dict(interval=10), timedelta(seconds=3605), AT + timedelta(seconds=3610)),
    (dict(cron="*/5 * * * *"), timedelta(hours=2, minutes=2), AT + timedelta(hours=2, minutes=5)),
], ids=["interval", "cron"])
def test_an_unbounded_schedule_that_fell_behind_shows_the_first_time_after_now(service, report, timing, late_by,
                                                                               following):
    service.clock.set(AT - timedelta(seconds=5))
    request = ScheduleRequest("report", at=AT if "interval" in timing else None, **timing)
    trigger, schedule_id = register(service, request)
    assert trigger.next_at == AT
    service.clock.set(AT + late_by)
    trigger = fire(service, trigger, schedule_id)  # once for the missed times, then on to the first after now
    assert shown(service, schedule_id) == trigger.next_at == following


def test_a_run_that_starts_after_a_later_firings_run_does_not_move_it_back(service, report):
    service.clock.set(AT - timedelta(seconds=5))
    _, schedule_id = register(service, ScheduleRequest("report", at=AT, interval=10, repeat=5))
    service.clock.set(AT + timedelta(hours=1))  # late: the trigger hands over AT, AT+10 s, ... in one pass
    service.runs.start(schedule_id, AT + timedelta(seconds=10))  # two workers: the later firing's run first
    service.runs.start(schedule_id, AT)
    assert shown(service, schedule_id) == AT + timedelta(seconds=20)
