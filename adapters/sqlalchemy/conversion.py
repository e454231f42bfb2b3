"""Explicit conversion between table rows (column dicts) and domain entities, both ways."""

from __future__ import annotations

import hashlib
import json

from domain.retry import Retry
from domain.schedule import LastRun, RunStatus, ScheduledTask, ScheduledTaskInstance, ScheduleStatus, Timing
from domain.task import Attempt, AttemptOutcome, Task, TaskStatus


def task_values(task: Task) -> dict:
    """The tasks row of a task (without its id)."""
    return {
        "name": task.name, "description": task.description or "", "args": list(task.args),
        "kwargs": dict(task.kwargs), "status": task.status.value, "progress": task.progress,
        "result": task.result, "log": task.log or "", "queue": task.queue, "timeout": task.timeout,
        "retry_policy": task.retry_policy.to_dict() if task.retry_policy else None, "owner": task.owner,
        "attempts": task.attempts, "retry_base": task.retry_base, "created_at": task.created_at,
        "enqueued_at": task.enqueued_at, "started_at": task.started_at, "ended_at": task.ended_at,
        "worker": task.worker, "version": task.version,
    }


def task_from_row(row, history: list[Attempt]) -> Task:
    return Task(
        id=row.id, name=row.name, description=row.description, args=row.args, kwargs=row.kwargs,
        status=TaskStatus(row.status), progress=row.progress, result=row.result, log=row.log, queue=row.queue,
        timeout=row.timeout, retry_policy=Retry.from_dict(row.retry_policy), owner=row.owner,
        attempts=row.attempts, retry_base=row.retry_base, created_at=row.created_at,
        enqueued_at=row.enqueued_at, started_at=row.started_at, ended_at=row.ended_at, worker=row.worker,
        history=history, version=row.version,
    )


def attempt_values(attempt: Attempt) -> dict:
    return {
        "number": attempt.number, "worker": attempt.worker, "started_at": attempt.started_at,
        "ended_at": attempt.ended_at, "outcome": attempt.outcome.value if attempt.outcome else None,
        "error": attempt.error,
    }


def attempt_from_row(row) -> Attempt:
    return Attempt(number=row.number, worker=row.worker, started_at=row.started_at, ended_at=row.ended_at,
                   outcome=AttemptOutcome(row.outcome) if row.outcome else None, error=row.error)


def schedule_key(name: str, args: list, kwargs: dict) -> str:
    """sha256 of the canonical JSON of the natural key [name, args, kwargs]."""
    canonical = json.dumps([name, list(args), dict(kwargs)], sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def schedule_values(schedule: ScheduledTask) -> dict:
    timing, last = schedule.timing, schedule.last_run
    return {
        "key_hash": schedule_key(schedule.name, schedule.args, schedule.kwargs),
        "name": schedule.name, "description": schedule.description or "", "args": list(schedule.args),
        "kwargs": dict(schedule.kwargs), "queue": schedule.queue, "status": schedule.status.value,
        "at": timing.at, "interval_seconds": timing.interval, "repeat_total": timing.repeat, "cron": timing.cron,
        "timezone": timing.timezone, "runs_started": schedule.runs_started, "next_run_at": schedule.next_run_at,
        "last_run_status": last.status.value if last else None,
        "last_run_scheduled_at": last.scheduled_at if last else None,
        "last_run_ended_at": last.ended_at if last else None,
        "created_at": schedule.created_at, "job_id": schedule.job_id, "version": schedule.version,
    }


def schedule_from_row(row) -> ScheduledTask:
    last = None
    if row.last_run_status is not None:
        last = LastRun(RunStatus(row.last_run_status), row.last_run_scheduled_at, row.last_run_ended_at)
    timing = Timing(at=row.at, interval=row.interval_seconds, repeat=row.repeat_total, cron=row.cron,
                    timezone=row.timezone)
    return ScheduledTask(
        id=row.id, name=row.name, timing=timing, args=row.args, kwargs=row.kwargs, description=row.description,
        queue=row.queue, status=ScheduleStatus(row.status), runs_started=row.runs_started,
        next_run_at=row.next_run_at, last_run=last, created_at=row.created_at, job_id=row.job_id,
        version=row.version,
    )


def run_values(run: ScheduledTaskInstance) -> dict:
    return {
        "schedule_id": run.schedule_id, "scheduled_at": run.scheduled_at, "started_at": run.started_at,
        "ended_at": run.ended_at, "status": run.status.value, "progress": run.progress, "result": run.result,
        "log": run.log or "", "worker": run.worker,
    }


def run_from_row(row) -> ScheduledTaskInstance:
    return ScheduledTaskInstance(
        id=row.id, schedule_id=row.schedule_id, scheduled_at=row.scheduled_at, started_at=row.started_at,
        status=RunStatus(row.status), progress=row.progress, result=row.result, log=row.log, worker=row.worker,
        ended_at=row.ended_at,
    )
