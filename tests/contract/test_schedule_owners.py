"""The ScheduleRepository contract for owners: kept, part of the natural key, and a listing filter that
compares exactly (on MariaDB too, where a case-insensitive collation would mix "ann" and "Ann")."""

from rqledger.application.ports import ScheduleQuery
from rqledger.domain.schedule import ScheduleStatus
from tests.contract.builders import add_schedule


def _owners(page) -> list:
    return [schedule.owner for schedule in page.items]


def test_a_schedule_keeps_its_owner_or_its_lack_of_one(new_uow):
    owned = add_schedule(new_uow, owner="한글 owner")
    unowned = add_schedule(new_uow, args=[2])
    uow = new_uow()
    with uow:
        assert uow.schedules.get(owned.id).owner == "한글 owner"
        assert uow.schedules.get(unowned.id).owner is None


def test_the_same_call_for_several_owners_is_several_schedules_each_found_by_its_owner(new_uow):
    ann = add_schedule(new_uow, owner="ann")
    bob = add_schedule(new_uow, owner="bob")
    nobody = add_schedule(new_uow)
    uow = new_uow()
    with uow:
        assert uow.schedules.find("report", [1], {"to": "bob"}, "ann").id == ann.id
        assert uow.schedules.find("report", [1], {"to": "bob"}, "bob").id == bob.id
        assert uow.schedules.find("report", [1], {"to": "bob"}, None).id == nobody.id
        assert uow.schedules.find("report", [1], {"to": "bob"}).id == nobody.id
        assert uow.schedules.find("report", [1], {"to": "bob"}, "Ann") is None


def test_a_saved_schedule_keeps_its_owner_and_its_key(new_uow):
    stored = add_schedule(new_uow, owner="ann")
    uow = new_uow()
    with uow:
        schedule = uow.schedules.get(stored.id)
        schedule.cancel()
        uow.schedules.save(schedule)
        uow.commit()
    with uow:
        assert uow.schedules.find("report", [1], {"to": "bob"}, "ann").owner == "ann"
        assert uow.schedules.find("report", [1], {"to": "bob"}) is None


def test_listing_by_owner_compares_exactly_and_pages(new_uow):
    ann = [add_schedule(new_uow, args=[n], owner="ann") for n in range(3)]
    capital = add_schedule(new_uow, owner="Ann")
    bob = add_schedule(new_uow, owner="bob")
    add_schedule(new_uow, args=[9])
    uow = new_uow()
    with uow:
        schedule = uow.schedules.get(bob.id)
        schedule.cancel()
        uow.schedules.save(schedule)
        uow.commit()
    with uow:
        first = uow.schedules.list(ScheduleQuery(owner="ann", limit=2))
        rest = uow.schedules.list(ScheduleQuery(owner="ann", limit=2, before_id=first.next_cursor))
        assert [s.id for s in first.items + rest.items] == [s.id for s in reversed(ann)]
        assert rest.next_cursor is None
        assert [s.id for s in uow.schedules.list(ScheduleQuery(owner="Ann")).items] == [capital.id]
        assert _owners(uow.schedules.list(ScheduleQuery(owner="bob"))) == ["bob"]
        dead = frozenset({ScheduleStatus.DEATH})
        assert _owners(uow.schedules.list(ScheduleQuery(owner="bob", statuses=dead))) == ["bob"]
        assert _owners(uow.schedules.list(ScheduleQuery(owner="ann", statuses=dead))) == []
        assert _owners(uow.schedules.list(ScheduleQuery(owner="ann", name="other"))) == []
        assert _owners(uow.schedules.list(ScheduleQuery())) == [None, "bob", "Ann", "ann", "ann", "ann"]
