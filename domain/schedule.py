"""A schedule (the parent record) and its runs (one child record per firing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from domain.errors import IllegalTransition, InvalidSchedule
from domain.task import normalize_result, clamp_progress


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


RUN_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.RUNNING: frozenset({RunStatus.FINISHED, RunStatus.FAILED, RunStatus.CANCELED}),
    RunStatus.FINISHED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELED: frozenset(),
}


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
    """The parent record of a schedule. Identity: id; natural key: name + args + kwargs."""

    name: str
    timing: Timing
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    description: str = ""
    queue: str = "default"
    id: int | None = None
    status: ScheduleStatus = ScheduleStatus.RUNNING
    runs_started: int = 0
    next_run_at: datetime | None = None
    last_run: LastRun | None = None
    created_at: datetime | None = None
    job_id: str | None = None  # the scheduler's job, when it has one
    version: int = 0

    def _move(self, requested: ScheduleStatus) -> None:
        if requested not in SCHEDULE_TRANSITIONS[self.status]:
            raise IllegalTransition("schedule", self.id, self.status, requested)
        if requested is not self.status:
            self.version += 1
        self.status = requested

    @property
    def exhausted(self) -> bool:
        total = self.timing.total_runs
        return total is not None and self.runs_started >= total

    @property
    def active(self) -> bool:
        return self.status is not ScheduleStatus.DEATH

    def revive(self, timing: Timing, description: str | None = None) -> None:
        """Registered again: takes the new timing and runs again, whatever it was."""
        self.timing = timing
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
