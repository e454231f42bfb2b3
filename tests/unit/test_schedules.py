"""Use cases on schedules, fired by the in-memory scheduler against a controllable clock."""

from datetime import datetime, timedelta, timezone

import pytest

from rqledger.application.errors import QueueUnavailable, ScheduleNotRegistered
from rqledger.application.ports import ScheduleQuery
from rqledger.application.registry import task
from rqledger.application.schedules import ScheduleRequest
from rqledger.domain.errors import DuplicateRun, InvalidArguments, InvalidSchedule, ScheduleNotFound, UnknownTaskType
from rqledger.domain.schedule import RunStatus, ScheduleStatus


@pytest.fixture
def tasks(registry):
    state = {"fail": False, "calls": 0}

    @task(registry=registry)
    def report(kind: str) -> dict:
        state["calls"] += 1
        if state["fail"]:
            raise RuntimeError("report broke")
        return {"kind": kind}

    return state


def every_second(service, repeat=3, **kwargs) -> ScheduleRequest:
    return ScheduleRequest("report", ["daily"], at=service.clock.now() + timedelta(seconds=1), interval=1,
                           repeat=repeat, **kwargs)


def test_at_plus_interval_with_repeat_3_gives_three_finished_runs_then_death(service, tasks):
    schedule, created = service.register_schedule(every_second(service))
    assert created and schedule.next_run_at == service.clock.now() + timedelta(seconds=1)
    for _ in range(5):
        service.clock.advance(1)
        service.fire_due()
    parent, runs = service.get_schedule(schedule.id)
    assert [r.status for r in runs] == [RunStatus.FINISHED] * 3
    assert parent.status is ScheduleStatus.DEATH
    assert parent.next_run_at is None
    assert parent.last_run.status is RunStatus.FINISHED


def test_registering_the_same_schedule_again_returns_one_parent(service, tasks):
    ids = {service.register_schedule(every_second(service))[0].id for _ in range(5)}
    assert len(ids) == 1
    assert len(service.list_schedules(ScheduleQuery()).items) == 1
    assert len(service.scheduler.jobs) == 1
    _, created = service.register_schedule(every_second(service))
    assert created is False


def test_other_args_make_another_schedule(service, tasks):
    first, _ = service.register_schedule(every_second(service))
    second, _ = service.register_schedule(ScheduleRequest("report", ["weekly"], at=service.clock.now()))
    assert first.id != second.id


def test_a_failed_run_fails_the_parent_and_a_later_finished_run_revives_it(service, tasks):
    schedule, _ = service.register_schedule(every_second(service, repeat=None))
    tasks["fail"] = True
    service.clock.advance(1)
    service.fire_due()
    parent, runs = service.get_schedule(schedule.id)
    assert parent.status is ScheduleStatus.FAILED
    assert runs[0].status is RunStatus.FAILED and "RuntimeError: report broke" in runs[0].log
    tasks["fail"] = False
    service.clock.advance(1)
    service.fire_due()
    assert service.get_schedule(schedule.id)[0].status is ScheduleStatus.RUNNING


def test_registering_revives_a_dead_parent_with_its_new_timing(service, tasks):
    schedule, _ = service.register_schedule(every_second(service))
    service.cancel_schedule(schedule.id)
    assert service.get_schedule(schedule.id)[0].status is ScheduleStatus.DEATH
    revived, created = service.register_schedule(ScheduleRequest("report", ["daily"], cron="0 * * * *"))
    assert not created and revived.id == schedule.id
    assert revived.status is ScheduleStatus.RUNNING and revived.timing.cron == "0 * * * *"


def test_cancel_stops_further_runs(service, tasks):
    schedule, _ = service.register_schedule(every_second(service, repeat=None))
    service.clock.advance(1)
    service.fire_due()
    service.cancel_schedule(schedule.id)
    service.clock.advance(10)
    assert service.fire_due() == 0
    assert tasks["calls"] == 1
    assert service.get_schedule(schedule.id)[0].status is ScheduleStatus.DEATH


def test_a_firing_delivered_after_cancel_is_skipped(service, tasks):
    schedule, _ = service.register_schedule(every_second(service))
    service.cancel_schedule(schedule.id)
    assert service.run_schedule(schedule.id, service.clock.now()) is None
    assert tasks["calls"] == 0


def test_delete_removes_the_parent_and_its_runs(service, tasks):
    schedule, _ = service.register_schedule(every_second(service))
    service.clock.advance(3)
    service.fire_due()
    service.delete_schedule(schedule.id)
    with pytest.raises(ScheduleNotFound):
        service.get_schedule(schedule.id)
    assert service.store.runs == {}
    assert service.scheduler.jobs == {}


def test_the_same_firing_is_recorded_once(service, tasks):
    schedule, _ = service.register_schedule(every_second(service))
    at = service.clock.now() + timedelta(seconds=1)
    assert service.run_schedule(schedule.id, at) is not None
    assert service.run_schedule(schedule.id, at) is None
    assert tasks["calls"] == 1
    with service.uow:
        with pytest.raises(DuplicateRun):
            service.uow.schedules.add_run(service.uow.schedules.get(schedule.id).start_run(at, at))


def test_a_cron_schedule_fires_at_the_minute_boundary(service, tasks):
    service.clock.set(datetime(2026, 3, 1, 8, 59, 30, tzinfo=timezone.utc))
    schedule, _ = service.register_schedule(ScheduleRequest("report", ["hourly"], cron="0 9 * * *"))
    assert schedule.next_run_at == datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    service.clock.advance(29)
    assert service.fire_due() == 0
    service.clock.advance(1)
    assert service.fire_due() == 1
    parent, runs = service.get_schedule(schedule.id)
    assert runs[0].scheduled_at == datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert parent.next_run_at == datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_cron_is_read_in_the_configured_time_zone(service, tasks):
    service.register_schedule.timezone = "Asia/Seoul"
    service.clock.set(datetime(2026, 3, 1, 0, 0, tzinfo=timezone.utc))
    schedule, _ = service.register_schedule(ScheduleRequest("report", ["kst"], cron="0 9 * * *"))
    assert schedule.next_run_at == datetime(2026, 3, 1, 0, 0, tzinfo=timezone.utc) + timedelta(days=1)


def test_an_at_in_the_past_runs_at_once(service, tasks):
    schedule, _ = service.register_schedule(
        ScheduleRequest("report", ["late"], at=service.clock.now() - timedelta(hours=1)))
    assert schedule.next_run_at == service.clock.now()
    assert service.fire_due() == 1


@pytest.mark.parametrize("request_,error,field", [
    (ScheduleRequest("nope", at=datetime(2026, 1, 1, tzinfo=timezone.utc)), UnknownTaskType, None),
    (ScheduleRequest("report", [1], at=datetime(2026, 1, 1, tzinfo=timezone.utc)), InvalidArguments, "kind"),
    (ScheduleRequest("report", ["x"], cron="61 * * * *"), InvalidSchedule, "cron"),
    (ScheduleRequest("report", ["x"], cron="every day"), InvalidSchedule, "cron"),
    (ScheduleRequest("report", ["x"], at=datetime(2026, 1, 1)), InvalidSchedule, "at"),
    (ScheduleRequest("report", ["x"], at=datetime(2026, 1, 1, tzinfo=timezone.utc), interval=-5), InvalidSchedule,
     "interval"),
])
def test_bad_schedules_are_refused_naming_the_field(service, tasks, request_, error, field):
    with pytest.raises(error) as caught:
        service.register_schedule(request_)
    assert getattr(caught.value, "field", None) == field
    assert service.list_schedules(ScheduleQuery()).items == []


def test_a_scheduler_outage_is_reported_and_the_parent_kept_for_the_scheduler_to_restore(service, tasks):
    service.scheduler.available = False
    with pytest.raises(ScheduleNotRegistered):
        service.register_schedule(every_second(service))
    assert service.list_schedules(ScheduleQuery()).items[0].status is ScheduleStatus.RUNNING


def test_runs_are_listed_newest_first_in_pages(service, tasks):
    schedule, _ = service.register_schedule(every_second(service, repeat=None))
    for _ in range(7):
        service.clock.advance(1)
        service.fire_due()
    first = service.list_runs(schedule.id, limit=5)
    second = service.list_runs(schedule.id, limit=5, before_id=first.next_cursor)
    ids = [r.id for r in first.items + second.items]
    assert ids == sorted(ids, reverse=True) and len(ids) == 7 and second.next_cursor is None


def test_two_firings_starting_at_once_both_count_on_the_parent(service, tasks):
    from rqledger.adapters.cron import CroniterCalendar
    from rqledger.application.runs import ScheduledRuns

    schedule, _ = service.register_schedule(ScheduleRequest("report", ["cron"], cron="* * * * *"))
    first_at = datetime(2026, 1, 1, 0, 1, tzinfo=timezone.utc)
    second_at = datetime(2026, 1, 1, 0, 2, tzinfo=timezone.utc)

    class OtherFiringStartsMeanwhile(CroniterCalendar):
        """Between this firing's read of the parent and its save, another firing records its run."""

        raced = False

        def next_after(self, expression, timezone_name, after):
            if not self.raced:
                self.raced = True
                assert service.runs.start(schedule.id, first_at, "w1") is not None
            return super().next_after(expression, timezone_name, after)

    racing = ScheduledRuns(service.new_uow(), service.clock, OtherFiringStartsMeanwhile(),
                           service.events)
    assert racing.start(schedule.id, second_at, "w2") is not None
    parent, runs = service.get_schedule(schedule.id)
    assert parent.runs_started == 2
    assert sorted(r.scheduled_at for r in runs) == [first_at, second_at]
