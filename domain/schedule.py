"""A schedule (the parent record) and its runs (one child record per firing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from rqledger.domain.errors import IllegalTransition, InvalidSchedule
from rqledger.domain.task import normalize_result, clamp_progress


class ScheduleStatus(str, Enum):
    RUNNING = "running"  # will fire again
    FAILED = "failed"  # its last run failed
    DEATH = "death"  # canceled, or exhausted after a finished last run


SCHEDULE_TRANSITIONS: dict[ScheduleStatus, frozenset[ScheduleStatus]] = {
    ScheduleStatus.RUNNING: frozenset({ScheduleStatus.RUNNING, ScheduleStatus.FAILED, ScheduleStatus.DEATH}),
    ScheduleStatus.FAILED: frozenset({ScheduleStatus.RUNNING, ScheduleStatus.FAILED, ScheduleStatus.DEATH}),
    ScheduleStatus.DEATH: frozenset({ScheduleStatus.DEATH, ScheduleStatus.RUNNING}),  # running: revived
}


class RunStatus(str, Enum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELED = "canceled"
    MISSED = "missed"  # its firing time passed with no scheduler to fire it: recorded afterwards, never run


RUN_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.RUNNING: frozenset({RunStatus.FINISHED, RunStatus.FAILED, RunStatus.CANCELED}),
    RunStatus.FINISHED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELED: frozenset(),
    RunStatus.MISSED: frozenset(),
}


class CatchUp(str, Enum):
    """What a schedule does with the firings it missed (every scheduler was down): each is recorded as a
    `missed` run, and then `skip` runs none of them, `latest` runs the newest once, now, and `all` runs each."""

    SKIP = "skip"
    LATEST = "latest"
    ALL = "all"

    @classmethod
    def parse(cls, value: "CatchUp | str | None") -> "CatchUp":
        """The policy named by `value` (None: the default, latest); InvalidSchedule names the field otherwise."""
        if value is None:
            return cls.LATEST
        try:
            return cls(value)
        except ValueError:
            raise InvalidSchedule(f"'catch_up' must be one of skip, latest, all, got {value!r}",
                                  field="catch_up") from None


@dataclass(frozen=True)
class Timing:
    """When a schedule fires: once `at`; from `at` every `interval` s (`repeat` runs in all, None: forever); or on `cron`."""

    at: datetime | None = None
    interval: int | None = None
    repeat: int | None = None
    cron: str | None = None
    timezone: str = "UTC"

    def __post_init__(self):
        if self.cron is not None:
            if self.at is not None or self.interval is not None or self.repeat is not None:
                raise InvalidSchedule("give either cron, or at with interval/repeat, not both", field="cron")
            if not isinstance(self.cron, str) or not self.cron.strip():
                raise InvalidSchedule("cron must be an expression like '*/5 * * * *'", field="cron")
            return
        if self.at is None:
            raise InvalidSchedule("a schedule needs 'at' (an ISO-8601 time with a UTC offset) or 'cron'", field="at")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise InvalidSchedule("'at' must carry a time zone offset, e.g. 2026-01-01T09:00:00+00:00", field="at")
        for name in ("interval", "repeat"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InvalidSchedule(f"'{name}' must be a whole number >= 1, got {value!r}", field=name)
        if self.repeat is not None and self.interval is None and self.repeat != 1:
            raise InvalidSchedule("'repeat' needs 'interval' (the seconds between runs)", field="repeat")

    @property
    def kind(self) -> str:
        if self.cron is not None:
            return "cron"
        return "interval" if self.interval is not None else "once"

    @property
    def total_runs(self) -> int | None:
        """How many runs in all; None when unbounded."""
        if self.kind == "once":
            return 1
        if self.kind == "interval":
            return self.repeat
        return None

    def nth_run_at(self, n: int) -> datetime:
        """The time of the n-th run (0-based) of an at/interval schedule."""
        if self.kind == "cron":
            raise ValueError("cron times come from a cron calendar")
        return self.at + timedelta(seconds=(self.interval or 0) * n)


@dataclass(eq=False)
class ScheduledTaskInstance:
    """One run of a schedule: created when the run starts."""

    schedule_id: int
    scheduled_at: datetime
    started_at: datetime
    id: int | None = None
    status: RunStatus = RunStatus.RUNNING
    progress: int = 0
    result: dict | None = None
    log: str = ""
    worker: str | None = None
    ended_at: datetime | None = None

    def _move(self, requested: RunStatus) -> None:
        if requested not in RUN_TRANSITIONS[self.status]:
            raise IllegalTransition("run", self.id, self.status, requested)
        self.status = requested

    def finish(self, result: Any, now: datetime) -> None:
        self._move(RunStatus.FINISHED)
        self.result = normalize_result(result)
        self.progress = 100
        self.ended_at = now

    def fail(self, error: str, now: datetime) -> None:
        self._move(RunStatus.FAILED)
        self.log = f"{self.log}\n{error}" if self.log else error
        self.ended_at = now

    def cancel(self, now: datetime, reason: str = "canceled") -> None:
        self._move(RunStatus.CANCELED)
        self.log = f"{self.log}\n{reason}" if self.log else reason
        self.ended_at = now

    def set_progress(self, percent) -> None:
        if self.status is not RunStatus.RUNNING:
            raise IllegalTransition("run", self.id, self.status, self.status, "progress is only kept while running")
        self.progress = clamp_progress(percent)


@dataclass(frozen=True)
class LastRun:
    status: RunStatus
    scheduled_at: datetime
    ended_at: datetime | None


@dataclass(eq=False)
class ScheduledTask:
    """The parent record of a schedule. Identity: id; natural key: name + args + kwargs + owner (`natural_key`).

    `owner` (who it is for, like a task's) is part of the key: two users scheduling the same call get
    a schedule each, and registering it again revives only one's own.
    """

    name: str
    timing: Timing
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    description: str = ""
    owner: str | None = None
    queue: str = "default"
    id: int | None = None
    status: ScheduleStatus = ScheduleStatus.RUNNING
    runs_started: int = 0
    next_run_at: datetime | None = None
    last_run: LastRun | None = None
    created_at: datetime | None = None
    job_id: str | None = None  # the scheduler's job, when it has one
    catch_up: CatchUp = CatchUp.LATEST
    log: str = ""  # what happened to the schedule as a whole (firings missed beyond those recorded as runs)
    # alerts: a successful run is expected at least every this many seconds (None: no dead-man check), and
    # this many failed runs in a row raise schedule.failing
    expect_every: int | None = None
    alert_after_failures: int = 3
    version: int = 0

    def _move(self, requested: ScheduleStatus) -> None:
        if requested not in SCHEDULE_TRANSITIONS[self.status]:
            raise IllegalTransition("schedule", self.id, self.status, requested)
        if requested is not self.status:
            self.version += 1
        self.status = requested

    @property
    def natural_key(self) -> tuple:
        """(name, args, kwargs, owner): registering a schedule with the same key again updates this one."""
        return natural_key(self.name, self.args, self.kwargs, self.owner)

    @property
    def exhausted(self) -> bool:
        total = self.timing.total_runs
        return total is not None and self.runs_started >= total

    @property
    def active(self) -> bool:
        return self.status is not ScheduleStatus.DEATH

    def revive(self, timing: Timing, description: str | None = None, catch_up: CatchUp = CatchUp.LATEST) -> None:
        """Registered again: takes the new timing (and catch-up policy) and runs again, whatever it was."""
        self.timing = timing
        self.catch_up = catch_up
        if description is not None:
            self.description = description
        self.runs_started = 0
        self._move(ScheduleStatus.RUNNING)

    def start_run(self, scheduled_at: datetime, now: datetime) -> ScheduledTaskInstance:
        if self.status is ScheduleStatus.DEATH:
            raise IllegalTransition("schedule", self.id, self.status, "run", "it is canceled or exhausted")
        self.runs_started += 1
        self.version += 1  # two firings counting at once must not lose one
        return ScheduledTaskInstance(schedule_id=self.id, scheduled_at=scheduled_at, started_at=now)

    def missed_run(self, scheduled_at: datetime, now: datetime, note: str) -> ScheduledTaskInstance:
        """The record of a firing nobody fired (ended at once, status missed); `count_missed` once it is stored."""
        return ScheduledTaskInstance(schedule_id=self.id, scheduled_at=scheduled_at, started_at=now,
                                     status=RunStatus.MISSED, log=note, ended_at=now)

    def count_missed(self, run: ScheduledTaskInstance | None = None, uncounted: int = 0) -> None:
        """A missed firing (`run`, stored) or `uncounted` ones not stored use up their slots like runs do: a
        bounded schedule whose last firings were all missed is exhausted (death); a failed one stays failed."""
        self.runs_started += uncounted + (run is not None)
        self.version += 1
        if run is not None and (self.last_run is None or self.last_run.scheduled_at < run.scheduled_at):
            self.last_run = LastRun(run.status, run.scheduled_at, run.ended_at)
        if self.exhausted:
            self.next_run_at = None
            if self.status is ScheduleStatus.RUNNING:
                self._move(ScheduleStatus.DEATH)

    def note(self, line: str) -> None:
        self.log = f"{self.log}\n{line}" if self.log else line

    def run_ended(self, run: ScheduledTaskInstance) -> None:
        """Follows a run's outcome: failed after a failed run, running after a finished one, death when exhausted."""
        self.last_run = LastRun(run.status, run.scheduled_at, run.ended_at)
        self.version += 1
        if self.status is ScheduleStatus.DEATH:
            return  # canceled while the run went on: stays dead
        if run.status is RunStatus.FAILED:
            self._move(ScheduleStatus.FAILED)
        elif self.exhausted:
            self._move(ScheduleStatus.DEATH)
        elif run.status is RunStatus.FINISHED:
            self._move(ScheduleStatus.RUNNING)
        if self.exhausted:
            self.next_run_at = None

    def cancel(self) -> None:
        self._move(ScheduleStatus.DEATH)
        self.next_run_at = None


def natural_key(name: str, args: list, kwargs: dict, owner: str | None) -> tuple:
    """A schedule's natural key; the owner is in it, so the same call for two owners is two schedules."""
    return name, list(args), dict(kwargs), owner
