"""A schedule's owner, and the natural key it is part of (what "the same schedule again" means)."""

from datetime import datetime, timezone

from rqledger.domain.schedule import ScheduledTask, Timing, natural_key

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def schedule(**fields) -> ScheduledTask:
    return ScheduledTask(name="report", timing=Timing(at=NOW), args=[1], kwargs={"to": "bob"}, **fields)


def test_a_schedule_has_no_owner_unless_given_one():
    assert schedule().owner is None
    assert schedule(owner="ann").owner == "ann"


def test_the_owner_is_part_of_the_natural_key():
    assert schedule(owner="ann").natural_key == ("report", [1], {"to": "bob"}, "ann")
    assert schedule(owner="ann").natural_key != schedule(owner="bob").natural_key
    assert schedule(owner="ann").natural_key != schedule().natural_key


def test_the_same_call_for_the_same_owner_is_the_same_key():
    assert schedule(owner="ann").natural_key == natural_key("report", [1], {"to": "bob"}, "ann")
    assert schedule().natural_key == natural_key("report", [1], {"to": "bob"}, None)


def test_reviving_a_schedule_keeps_its_owner():
    revived = schedule(owner="ann")
    revived.cancel()
    revived.revive(Timing(cron="0 * * * *"))
    assert revived.owner == "ann"
