"""Schedules of an owner: the owner as a task's, part of the schedule's identity, a listing filter, in events."""

from datetime import timedelta

import pytest

from rqledger.application.ports import ScheduleQuery
from rqledger.application.registry import task
from rqledger.application.schedules import ScheduleRequest
from rqledger.application.tasks import TaskRequest
from rqledger.domain.errors import InvalidArguments
from rqledger.domain.schedule import ScheduleStatus


@pytest.fixture
def tasks(registry):
    @task(registry=registry)
    def report(kind: str) -> dict:
        return {"kind": kind}

    @task(registry=registry)
    def export(user: str) -> str:
        return user


def daily(service, owner=None, **timing) -> ScheduleRequest:
    timing = timing or {"at": service.clock.now() + timedelta(seconds=1), "interval": 1, "repeat": 2}
    return ScheduleRequest("report", ["daily"], owner=owner, **timing)


def owners(page) -> list:
    return [schedule.owner for schedule in page.items]


def test_an_integer_owner_is_stored_as_its_decimal_string(service, tasks):
    schedule, created = service.register_schedule(daily(service, owner=7))
    assert created and schedule.owner == "7"
    assert service.get_schedule(schedule.id)[0].owner == "7"


@pytest.mark.parametrize("owner", ["", "x" * 201, True, 1.5, ["ann"]])
def test_an_owner_a_task_would_refuse_is_refused_and_nothing_is_stored(service, tasks, owner):
    refusal = "'owner' must be a string of 1 to 200 characters or an integer"
    with pytest.raises(InvalidArguments, match=refusal) as refused:
        service.register_schedule(daily(service, owner=owner))
    assert refused.value.field == "owner"
    assert service.list_schedules(ScheduleQuery()).items == []


def test_two_owners_scheduling_the_same_call_get_a_schedule_each(service, tasks):
    ann, ann_created = service.register_schedule(daily(service, owner="ann"))
    bob, bob_created = service.register_schedule(daily(service, owner="bob"))
    nobody, nobody_created = service.register_schedule(daily(service))
    assert ann_created and bob_created and nobody_created
    assert len({ann.id, bob.id, nobody.id}) == 3
    assert len(service.scheduler.jobs) == 3


def test_registering_the_same_call_again_revives_only_the_owner_s_own(service, tasks):
    ann, _ = service.register_schedule(daily(service, owner="ann"))
    bob, _ = service.register_schedule(daily(service, owner="bob"))
    service.cancel_schedule(ann.id)
    service.cancel_schedule(bob.id)
    again, created = service.register_schedule(daily(service, owner="ann", cron="0 * * * *"))
    assert not created and again.id == ann.id and again.owner == "ann"
    assert again.status is ScheduleStatus.RUNNING and again.timing.cron == "0 * * * *"
    assert service.get_schedule(bob.id)[0].status is ScheduleStatus.DEATH


def test_an_integer_owner_and_its_string_are_one_owner(service, tasks):
    first, _ = service.register_schedule(daily(service, owner=7))
    again, created = service.register_schedule(daily(service, owner="7"))
    assert not created and again.id == first.id


def test_a_listing_by_owner_shows_only_that_owner_s_schedules(service, tasks):
    service.register_schedule(daily(service, owner="ann"))
    service.register_schedule(ScheduleRequest("report", ["weekly"], owner="ann", cron="0 0 * * 0"))
    bob, _ = service.register_schedule(daily(service, owner="bob"))
    service.register_schedule(daily(service))
    service.cancel_schedule(bob.id)
    assert owners(service.list_schedules(ScheduleQuery(owner="ann"))) == ["ann", "ann"]
    assert owners(service.list_schedules(ScheduleQuery(owner="bob"))) == ["bob"]
    assert owners(service.list_schedules(ScheduleQuery(owner="carl"))) == []
    running = frozenset({ScheduleStatus.RUNNING})
    assert owners(service.list_schedules(ScheduleQuery(owner="bob", statuses=running))) == []
    assert owners(service.list_schedules(ScheduleQuery())) == [None, "bob", "ann", "ann"]  # newest first


def test_run_events_carry_their_schedule_s_owner(service, tasks):
    schedule, _ = service.register_schedule(daily(service, owner=7))
    service.register_schedule(daily(service))
    for _ in range(2):
        service.clock.advance(1)
        service.fire_due()
    runs = [e for e in service.events.published if e["kind"] == "run"]
    mine = [e for e in runs if e["schedule_id"] == schedule.id]
    assert [e["status"] for e in mine] == ["running", "finished"] * 2
    assert {e["owner"] for e in mine} == {"7"}
    assert {e["owner"] for e in runs if e["schedule_id"] != schedule.id} == {None}


def test_task_events_carry_the_task_s_owner(service, tasks):
    service.enqueue(TaskRequest("export", ["ann"], owner="ann"))
    service.enqueue(TaskRequest("export", ["nobody"]))
    service.worker.work()
    events = [e for e in service.events.published if e["kind"] == "task"]
    assert [e["status"] for e in events if e["owner"] == "ann"] == ["queued", "running", "finished"]
    assert [e["status"] for e in events if e["owner"] is None] == ["queued", "running", "finished"]
