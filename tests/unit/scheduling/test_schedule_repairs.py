"""The schedules' maintenance steps on fakes of their ports (the real ones run in
tests/integration/scheduling/test_adapter.py): RepairTriggers and EndStuckRuns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from rqledger.adapters.cron import CroniterCalendar
from rqledger.adapters.memory import FixedClock, InMemoryUnitOfWork
from rqledger.adapters.memory.events import InMemoryEvents
from rqledger.application.runs import ScheduledRuns
from rqledger.application.schedule_repairs import EndStuckRuns, RepairTriggers
from rqledger.domain.schedule import RunStatus, ScheduledTask, Timing

AT = datetime(2026, 12, 5, 3, 0, tzinfo=timezone.utc)


@dataclass
class Stored:
    job_id: str
    trigger: object


@dataclass
class FakeTrigger:
    schedule_id: int
    timing: Timing
    catch_up: object


class FakeTriggers:
    def __init__(self):
        self.stored: dict[str, Stored] = {}

    def triggers(self):
        return list(self.stored.values())

    def trigger_id(self, schedule_id: int) -> str:
        return f"schedule-{schedule_id}"

    def remove(self, job_id: str) -> None:
        self.stored.pop(job_id, None)

    def restore(self, schedule: ScheduledTask):
        job_id = self.trigger_id(schedule.id)
        self.stored[job_id] = Stored(job_id, FakeTrigger(schedule.id, schedule.timing, schedule.catch_up))
        return self.stored[job_id]


class FakeRunJobs:
    def __init__(self, over: dict[int, str] | None = None, live: set[str] | None = None):
        self.over = over or {}
        self.live = live

    def why_over(self, run):
        return self.over.get(run.id)

    def live_workers(self):
        return self.live


def add_schedule(uow, name: str, **fields) -> ScheduledTask:
    with uow:
        schedule = uow.schedules.add(ScheduledTask(name=name, timing=Timing(at=AT, interval=60), created_at=AT,
                                                   **fields))
        uow.commit()
    return schedule


def test_lost_triggers_come_back_and_foreign_or_dead_ones_go():
    uow, triggers = InMemoryUnitOfWork(), FakeTriggers()
    kept = add_schedule(uow, "kept")
    lost = add_schedule(uow, "lost")
    triggers.restore(kept)
    triggers.stored["schedule-99"] = Stored("schedule-99", FakeTrigger(99, Timing(at=AT, interval=5), None))
    triggers.stored["other-app"] = Stored("other-app", None)

    report = RepairTriggers(uow, triggers)()

    assert report.restored == [lost.id] and report.removed == ["schedule-99"]
    assert sorted(triggers.stored) == ["other-app", f"schedule-{kept.id}", f"schedule-{lost.id}"]
    with uow:
        assert uow.schedules.get(lost.id).job_id == f"schedule-{lost.id}"
    assert not RepairTriggers(uow, triggers)()  # nothing left to repair


def test_runs_whose_job_is_over_or_whose_worker_is_gone_are_ended_once():
    uow, clock = InMemoryUnitOfWork(), FixedClock(AT + timedelta(minutes=5))
    schedule = add_schedule(uow, "report")
    runs = ScheduledRuns(uow=uow, clock=clock, calendar=CroniterCalendar(), events=InMemoryEvents())
    started = []
    for minute, worker in ((1, "w-dead"), (2, "w-live"), (3, "w-live")):
        with uow:
            parent = uow.schedules.get(schedule.id)
            run = parent.start_run(AT + timedelta(minutes=minute), AT + timedelta(minutes=minute))
            run.worker = worker
            started.append(uow.schedules.add_run(run))
            uow.schedules.save(parent)
            uow.commit()
    jobs = FakeRunJobs(over={started[2].id: "its job failed in the queue"}, live={"w-live"})

    ended = EndStuckRuns(uow, runs, jobs, clock)()

    assert sorted(ended) == [started[0].id, started[2].id]
    with uow:
        logs = {r.id: (r.status, r.log) for r in uow.schedules.list_runs(schedule.id).items}
    assert logs[started[0].id] == (RunStatus.FAILED, "the scheduler's maintenance ended the run: its worker "
                                                     "w-dead is gone (no heartbeat)")
    assert logs[started[1].id][0] is RunStatus.RUNNING
    assert EndStuckRuns(uow, runs, jobs, clock)() == []
