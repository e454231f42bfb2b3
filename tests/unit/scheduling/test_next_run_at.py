"""RqScheduler.next_run_at: the timing's first firing after a moment (pure arithmetic, no Redis touched)."""

from datetime import datetime, timedelta, timezone

import pytest

from rqledger.adapters.cron import CroniterCalendar
from rqledger.adapters.memory import FixedClock
from rqledger.adapters.scheduler import RqScheduler
from rqledger.application.registry import TaskRegistry
from rqledger.domain.schedule import ScheduledTask, Timing

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def scheduler():
    return RqScheduler(None, CroniterCalendar(), FixedClock(T0), TaskRegistry(), "x.run")


def parent(**timing) -> ScheduledTask:
    return ScheduledTask(name="report", timing=Timing(**timing), id=1)


@pytest.mark.parametrize("timing,after,expected", [
    ({"at": T0}, T0 - timedelta(seconds=1), T0),
    ({"at": T0}, T0, None),
    ({"at": T0, "interval": 60, "repeat": 3}, T0, T0 + timedelta(seconds=60)),
    ({"at": T0, "interval": 60, "repeat": 3}, T0 + timedelta(seconds=119), T0 + timedelta(seconds=120)),
    ({"at": T0, "interval": 60, "repeat": 3}, T0 + timedelta(seconds=120), None),
    ({"at": T0, "interval": 60}, T0 + timedelta(days=1), T0 + timedelta(days=1, seconds=60)),
    ({"cron": "30 9 * * *"}, T0, T0 + timedelta(minutes=30)),
    ({"cron": "0 9 * * *", "timezone": "Europe/Paris"}, T0, datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)),
])
def test_the_first_firing_strictly_after_a_moment(scheduler, timing, after, expected):
    assert scheduler.next_run_at(parent(**timing), after) == expected
