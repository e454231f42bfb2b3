"""A schedule's trigger: what its one rq-scheduler job carries, and the arithmetic of its firings.

Pure Python (no Redis): the firing times are computed here, not by rq-scheduler,
because rq-scheduler drifts (its next firing is "now + interval") and reads cron
in the machine's local time, while the ledger wants the nominal times on the
`at + n * interval` grid and cron read in RQLEDGER_TIMEZONE.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from application.ports import CronCalendar
from domain.schedule import ScheduledTask, Timing

META_KEY = "rqledger_schedule"  # marks an rq-scheduler job as one of ours; holds the trigger's state


def trigger_job_id(schedule_id: int) -> str:
    """The one scheduler job of a schedule: deterministic, so re-creating it can never make a second one."""
    return f"schedule-{schedule_id}"


def run_job_id(schedule_id: int, scheduled_at: datetime) -> str:
    """The RQ job of one firing: unique per firing, so overlapping or repeated firings cannot overwrite each other."""
    return f"schedule-{schedule_id}-{round(scheduled_at.timestamp() * 1000)}"


@dataclass(frozen=True)
class Trigger:
    """The state of a schedule's scheduler job: its timing, the nominal time of its next firing and how many fired."""

    schedule_id: int
    name: str
    timing: Timing
    next_at: datetime
    fired: int = 0
    queue: str = "default"
    timeout: int | None = None

    @classmethod
    def for_schedule(cls, schedule: ScheduledTask, calendar: CronCalendar, now: datetime,
                     timeout: int | None = None) -> "Trigger | None":
        """The trigger that continues the ledger's parent where it stands; None when it will not fire again."""
        if not schedule.active or schedule.exhausted:
            return None
        next_at = schedule.next_run_at
        if next_at is None:
            timing = schedule.timing
            if timing.kind == "cron":
                next_at = calendar.next_after(timing.cron, timing.timezone, now)
            elif schedule.runs_started == 0:
                next_at = max(timing.at, now)
            else:
                next_at = timing.nth_run_at(schedule.runs_started)
        return cls(schedule_id=schedule.id, name=schedule.name, timing=schedule.timing, next_at=next_at,
                   fired=schedule.runs_started, queue=schedule.queue, timeout=timeout)

    @property
    def bounded(self) -> bool:
        return self.timing.total_runs is not None

    def after_firing(self, calendar: CronCalendar, now: datetime) -> "Trigger | None":
        """The trigger once its due firing (`next_at`) has been handed to the queue; None when it is used up.

        A bounded schedule (a one-off, an interval with a repeat count) delivers every one of its
        firings, late or not. An unbounded one that fell behind (the scheduler was down) fires once
        for the oldest missed time and then skips to the first time after `now`, instead of
        replaying every missed firing in a burst.
        """
        fired = self.fired + 1
        total = self.timing.total_runs
        if total is not None and fired >= total:
            return None
        if self.timing.kind == "cron":
            following = calendar.next_after(self.timing.cron, self.timing.timezone, max(self.next_at, now))
        else:
            # the `at + n * interval` grid; a first firing put off to "now" (an `at` in the past) is off it
            following = _first_grid_point_after(self.timing, self.next_at)
            if not self.bounded and following <= now:
                following = _first_grid_point_after(self.timing, now)
        return replace(self, next_at=following, fired=fired)

    def to_meta(self) -> dict:
        """The JSON stored in the scheduler job's meta."""
        timing = self.timing
        return {
            "schedule_id": self.schedule_id,
            "name": self.name,
            "queue": self.queue,
            "timeout": self.timeout,
            "at": timing.at.isoformat() if timing.at else None,
            "interval": timing.interval,
            "repeat": timing.repeat,
            "cron": timing.cron,
            "timezone": timing.timezone,
            "next_at": self.next_at.isoformat(),
            "fired": self.fired,
        }

    @classmethod
    def from_meta(cls, data: dict) -> "Trigger":
        timing = Timing(at=_parse(data.get("at")), interval=data.get("interval"), repeat=data.get("repeat"),
                        cron=data.get("cron"), timezone=data.get("timezone") or "UTC")
        return cls(schedule_id=int(data["schedule_id"]), name=str(data["name"]), timing=timing,
                   next_at=_parse(data["next_at"]), fired=int(data.get("fired", 0)),
                   queue=data.get("queue") or "default", timeout=data.get("timeout"))


def _first_grid_point_after(timing: Timing, moment: datetime) -> datetime:
    step = timedelta(seconds=timing.interval)
    if moment < timing.at:
        return timing.at
    return timing.at + step * ((moment - timing.at) // step + 1)


def _parse(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
