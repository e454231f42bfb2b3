"""Entities for the contract tests, with every field set to something that must survive a round trip."""

from datetime import datetime, timedelta, timezone

from rqledger.domain.retry import Retry
from rqledger.domain.schedule import ScheduledTask, Timing
from rqledger.domain.task import Task

NOW = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=timezone.utc)


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def a_task(name: str = "export", **fields) -> Task:
    values = dict(args=[1, "two", {"three": [3.5]}], kwargs={"user": "한글데이터", "flag": True},
                  description="exports posts", queue="default", timeout=600,
                  retry_policy=Retry(max=3, interval=(5, 10, 30)), owner="alice",
                  created_at=NOW, enqueued_at=NOW)
    values.update(fields)
    return Task(name=name, **values)


def a_schedule(name: str = "report", **fields) -> ScheduledTask:
    values = dict(timing=Timing(at=NOW, interval=60, repeat=5), args=[1], kwargs={"to": "bob"},
                  description="a report", created_at=NOW, next_run_at=NOW)
    values.update(fields)
    return ScheduledTask(name=name, **values)


def add_task(new_uow, **fields) -> Task:
    uow = new_uow()
    with uow:
        task = uow.tasks.add(a_task(**fields))
        uow.commit()
    return task


def add_schedule(new_uow, **fields) -> ScheduledTask:
    uow = new_uow()
    with uow:
        schedule = uow.schedules.add(a_schedule(**fields))
        uow.commit()
    return schedule
