"""The overview's charts (application/throughput.py) on the memory ledger, at a fixed moment: which bucket each
ended task falls in, the percentiles per task type, the owner's view and the read's limit."""

from datetime import datetime, timedelta, timezone

import pytest

from rqledger.adapters.memory import InMemoryStore, InMemoryUnitOfWork
from rqledger.adapters.memory.clock import FixedClock
from rqledger.application.throughput import ChartTasks, percentile
from rqledger.domain.task import Task, TaskStatus

NOW = datetime(2026, 3, 4, 12, 34, 56, tzinfo=timezone.utc)


def ago(**delta) -> datetime:
    return NOW - timedelta(**delta)


@pytest.fixture
def store():
    return InMemoryStore()


def ended(store, status=TaskStatus.FINISHED, at=NOW, took: float | None = 1.0, name="export", owner=None):
    uow = InMemoryUnitOfWork(store)
    started = None if took is None else at - timedelta(seconds=took)
    with uow:
        uow.tasks.add(Task(name=name, status=status, owner=owner, created_at=at - timedelta(minutes=1),
                           started_at=started, ended_at=at))
        uow.commit()


def charts(store, **kwargs):
    return ChartTasks(InMemoryUnitOfWork(store), FixedClock(NOW), **kwargs)


def counts(bucket) -> tuple[int, int, int]:
    return bucket.finished, bucket.failed, bucket.canceled


def test_the_hour_is_sixty_minutes_ending_with_the_current_one(store):
    found = charts(store)()
    assert len(found.hour) == 60
    assert found.hour[-1].start == datetime(2026, 3, 4, 12, 34, tzinfo=timezone.utc)
    assert found.hour[0].start == datetime(2026, 3, 4, 11, 35, tzinfo=timezone.utc)
    assert len(found.day) == 48
    assert found.day[-1].start == datetime(2026, 3, 4, 12, 30, tzinfo=timezone.utc)
    assert found.day[0].start == datetime(2026, 3, 3, 13, 0, tzinfo=timezone.utc)


def test_each_ended_task_counts_in_its_minute_by_outcome(store):
    ended(store, TaskStatus.FINISHED, ago(seconds=10))
    ended(store, TaskStatus.FINISHED, ago(seconds=56))  # 12:34:00, the current minute's first instant
    ended(store, TaskStatus.FAILED, ago(seconds=57))  # 12:33:59
    ended(store, TaskStatus.CANCELED, ago(minutes=59, seconds=56), took=None)  # 11:35:00, the first minute
    ended(store, TaskStatus.FINISHED, ago(minutes=59, seconds=57))  # 11:34:59: before the hour
    hour = charts(store)().hour
    assert counts(hour[-1]) == (2, 0, 0)
    assert counts(hour[-2]) == (0, 1, 0)
    assert counts(hour[0]) == (0, 0, 1)
    assert sum(b.total for b in hour) == 4


def test_the_day_counts_in_half_hours_and_leaves_out_what_ended_before_its_first(store):
    ended(store, TaskStatus.FINISHED, ago(seconds=10))  # 12:34:46 -> the 12:30 bucket
    ended(store, TaskStatus.FAILED, ago(minutes=4, seconds=56))  # 12:30:00 -> the 12:30 bucket
    ended(store, TaskStatus.FAILED, ago(minutes=4, seconds=57))  # 12:29:59 -> the 12:00 bucket
    ended(store, TaskStatus.CANCELED, datetime(2026, 3, 3, 13, 0, tzinfo=timezone.utc))  # the first bucket
    ended(store, TaskStatus.FINISHED, datetime(2026, 3, 3, 12, 59, 59, tzinfo=timezone.utc))  # before it
    day = charts(store)().day
    assert counts(day[-1]) == (1, 1, 0)
    assert counts(day[-2]) == (0, 1, 0)
    assert counts(day[0]) == (0, 0, 1)
    assert sum(b.total for b in day) == 4


def test_durations_are_the_nearest_rank_p50_and_p95_per_type_most_runs_first(store):
    for seconds in range(20, 0, -1):
        ended(store, at=ago(minutes=seconds), took=seconds, name="resize")
    ended(store, at=ago(hours=23), took=0.25, name="mail")
    ended(store, at=ago(hours=25), took=500, name="mail")  # more than a day ago: left out
    ended(store, TaskStatus.CANCELED, at=ago(hours=1), took=None, name="mail")  # never started: no duration
    ended(store, at=ago(hours=2), took=-3, name="mail")  # a clock stepped back: zero
    found = charts(store)().durations
    assert [(d.name, d.count) for d in found] == [("resize", 20), ("mail", 2)]
    assert (found[0].p50, found[0].p95) == (10.0, 19.0)
    assert (found[1].p50, found[1].p95) == (0.0, 0.25)


def test_percentiles_of_one_value_and_of_a_hundred():
    assert percentile([4.0], 50) == percentile([4.0], 95) == 4.0
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (50.0, 95.0, 100.0)


def test_an_owner_sees_only_their_own_tasks(store):
    ended(store, TaskStatus.FINISHED, ago(seconds=5), owner="ann")
    ended(store, TaskStatus.FAILED, ago(seconds=5), owner="bob")
    assert counts(charts(store)(owner="ann").hour[-1]) == (1, 0, 0)
    assert counts(charts(store)().hour[-1]) == (1, 1, 0)
    assert sum(b.total for b in charts(store).nothing().day) == 0


def test_past_the_read_limit_the_newest_count_and_the_charts_say_they_are_short(store):
    for minutes in range(5):
        ended(store, TaskStatus.FINISHED, ago(minutes=minutes))
    short = charts(store, limit=3)()
    assert not short.complete and sum(b.total for b in short.hour) == 3
    assert counts(short.hour[-1]) == (1, 0, 0) and counts(short.hour[-4]) == (0, 0, 0)
    assert charts(store, limit=6)().complete
