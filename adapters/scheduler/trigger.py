"""A schedule's trigger: what its one rq-scheduler job carries, and the arithmetic of its firings.

Pure Python (no Redis): the firing times are computed here, not by rq-scheduler,
because rq-scheduler drifts (its next firing is "now + interval") and reads cron
in the machine's local time, while the ledger wants the nominal times on the
`at + n * interval` grid and cron read in RQLEDGER_TIMEZONE.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

from rqledger.application.catch_up import CatchUpPlan, plan_catch_up
from rqledger.application.ports import CronCalendar
from rqledger.application.schedules import firing_after
from rqledger.domain.schedule import CatchUp, ScheduledTask, Timing

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
    catch_up: CatchUp = CatchUp.LATEST

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
                   fired=schedule.runs_started, queue=schedule.queue, timeout=timeout, catch_up=schedule.catch_up)

    def after_firing(self, calendar: CronCalendar, now: datetime) -> "Trigger | None":
        """The trigger once its due firing (`next_at`) has been handed to the queue; None when it is used up.

        The catch-up rules (every late firing of a bounded schedule; once, then the first time after `now`,
        for an unbounded one) are `firing_after`'s, which the ledger's `next_run_at` follows too.
        """
        following = firing_after(self.timing, self.next_at, self.fired + 1, calendar, now)
        return None if following is None else replace(self, next_at=following, fired=self.fired + 1)

    def catch_up_plan(self, calendar: CronCalendar, now: datetime, grace: float,
                      max_missed: int) -> CatchUpPlan | None:
        """What to do when the due firing is overdue by more than `grace` seconds (no scheduler fired it at its
        time): application.catch_up's plan by this schedule's policy; None for an ordinary firing."""
        return plan_catch_up(self.timing, self.catch_up, self.next_at, self.fired, calendar, now, grace, max_missed)

    def after_catch_up(self, plan: CatchUpPlan) -> "Trigger | None":
        """The trigger once `plan` is carried out: at the first firing after it; None when it is used up."""
        if plan.following is None:
            return None
        return replace(self, next_at=plan.following, fired=self.fired + plan.consumed)

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
            "catch_up": self.catch_up.value,
        }

    @classmethod
    def from_meta(cls, data: dict) -> "Trigger":
        timing = Timing(at=_parse(data.get("at")), interval=data.get("interval"), repeat=data.get("repeat"),
                        cron=data.get("cron"), timezone=data.get("timezone") or "UTC")
        return cls(schedule_id=int(data["schedule_id"]), name=str(data["name"]), timing=timing,
                   next_at=_parse(data["next_at"]), fired=int(data.get("fired", 0)),
                   queue=data.get("queue") or "default", timeout=data.get("timeout"),
                   catch_up=CatchUp.parse(data.get("catch_up")))  # a trigger written before 0004: latest


def _parse(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
