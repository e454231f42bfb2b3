"""Explicit conversion between table rows (column dicts) and domain entities, both ways."""

from __future__ import annotations

import hashlib
import json

from rqledger.domain.alert import Alert, AlertKind, AlertStatus, Delivery, DeliveryStatus
from rqledger.domain.retry import Retry
from rqledger.domain.schedule import CatchUp, LastRun, RunStatus, ScheduledTask, ScheduledTaskInstance, ScheduleStatus, Timing
from rqledger.domain.task import Attempt, AttemptOutcome, Priority, Task, TaskStatus


def task_values(task: Task) -> dict:
    """The tasks row of a task (without its id)."""
    return {
        "name": task.name, "description": task.description or "", "args": list(task.args),
        "kwargs": dict(task.kwargs), "status": task.status.value, "progress": task.progress,
        "result": task.result, "log": task.log or "", "queue": task.queue, "timeout": task.timeout,
        "retry_policy": task.retry_policy.to_dict() if task.retry_policy else None, "owner": task.owner,
        "priority": task.priority.value,
        # the key is derived from the status: a write that ends the task frees it, a user retry takes it again
        "is_unique": task.unique, "unique_key": task.unique_key,
        "attempts": task.attempts, "retry_base": task.retry_base, "created_at": task.created_at,
        "enqueued_at": task.enqueued_at, "started_at": task.started_at, "ended_at": task.ended_at,
        "worker": task.worker, "version": task.version,
    }


def task_from_row(row, history: list[Attempt]) -> Task:
    return Task(
        id=row.id, name=row.name, description=row.description, args=row.args, kwargs=row.kwargs,
        status=TaskStatus(row.status), progress=row.progress, result=row.result, log=row.log, queue=row.queue,
        timeout=row.timeout, retry_policy=Retry.from_dict(row.retry_policy), owner=row.owner,
        priority=Priority(row.priority), unique=bool(row.is_unique), attempts=row.attempts, retry_base=row.retry_base, created_at=row.created_at,
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


def schedule_key(name: str, args: list, kwargs: dict, owner: str | None = None) -> str:
    """sha256 of the canonical JSON of the natural key: [name, args, kwargs], or [name, args, kwargs, owner]
    for a schedule with an owner. A schedule of no owner keeps the key it had before owners (migration
    0003 rewrites no row), and the two shapes never give the same JSON."""
    key = [name, list(args), dict(kwargs)] if owner is None else [name, list(args), dict(kwargs), owner]
    canonical = json.dumps(key, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def schedule_values(schedule: ScheduledTask) -> dict:
    timing, last = schedule.timing, schedule.last_run
    return {
        "key_hash": schedule_key(*schedule.natural_key),
        "name": schedule.name, "description": schedule.description or "", "args": list(schedule.args),
        "kwargs": dict(schedule.kwargs), "owner": schedule.owner, "queue": schedule.queue,
        "status": schedule.status.value,
        "at": timing.at, "interval_seconds": timing.interval, "repeat_total": timing.repeat, "cron": timing.cron,
        "timezone": timing.timezone, "runs_started": schedule.runs_started, "next_run_at": schedule.next_run_at,
        "last_run_status": last.status.value if last else None,
        "last_run_scheduled_at": last.scheduled_at if last else None,
        "last_run_ended_at": last.ended_at if last else None,
        "created_at": schedule.created_at, "job_id": schedule.job_id, "catch_up": schedule.catch_up.value,
        "log": schedule.log or "", "expect_every": schedule.expect_every,
        "alert_after_failures": schedule.alert_after_failures, "version": schedule.version,
    }


def schedule_from_row(row) -> ScheduledTask:
    last = None
    if row.last_run_status is not None:
        last = LastRun(RunStatus(row.last_run_status), row.last_run_scheduled_at, row.last_run_ended_at)
    timing = Timing(at=row.at, interval=row.interval_seconds, repeat=row.repeat_total, cron=row.cron,
                    timezone=row.timezone)
    return ScheduledTask(
        id=row.id, name=row.name, timing=timing, args=row.args, kwargs=row.kwargs, description=row.description,
        owner=row.owner, queue=row.queue, status=ScheduleStatus(row.status), runs_started=row.runs_started,
        next_run_at=row.next_run_at, last_run=last, created_at=row.created_at, job_id=row.job_id,
        catch_up=CatchUp(row.catch_up), log=row.log or "", expect_every=row.expect_every,
        alert_after_failures=row.alert_after_failures, version=row.version,
    )


def alert_values(alert: Alert) -> dict:
    return {"kind": alert.kind.value, "key": alert.key, "open_key": alert.open_key, "status": alert.status.value,
            "summary": alert.summary, "subject": dict(alert.subject), "count": alert.count,
            "created_at": alert.created_at, "updated_at": alert.updated_at, "resolved_at": alert.resolved_at,
            "version": alert.version}


def alert_from_row(row) -> Alert:
    return Alert(id=row.id, kind=AlertKind(row.kind), key=row.key, status=AlertStatus(row.status),
                 summary=row.summary, subject=row.subject, count=row.count, created_at=row.created_at,
                 updated_at=row.updated_at, resolved_at=row.resolved_at, version=row.version)


def delivery_values(delivery: Delivery) -> dict:
    return {"alert_id": delivery.alert_id, "target": delivery.target, "status": delivery.status.value,
            "attempts": delivery.attempts, "next_attempt_at": delivery.next_attempt_at,
            "claimed_until": delivery.claimed_until, "last_error": delivery.last_error,
            "created_at": delivery.created_at, "delivered_at": delivery.delivered_at, "version": delivery.version}


def delivery_from_row(row) -> Delivery:
    return Delivery(id=row.id, alert_id=row.alert_id, target=row.target, status=DeliveryStatus(row.status),
                    attempts=row.attempts, next_attempt_at=row.next_attempt_at, claimed_until=row.claimed_until,
                    last_error=row.last_error, created_at=row.created_at, delivered_at=row.delivered_at,
                    version=row.version)


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
