"""Alerts: the rules that open and resolve them, their delivery to webhooks, and reading them.

Both steps run in the scheduler's maintenance round (one scheduler at a time, under its Redis lock):

- `EvaluateAlerts` reads the ledger and opens an alert for each condition that holds and has none open, updates
  the count of one that is open, and resolves the open ones whose condition no longer holds. The conditions:
  `task.failed` (tasks of one type failed for good in the current window: one alert per type per window, with
  the count), `schedule.failing` (its last `alert_after_failures` runs failed), `schedule.missed` (its newest
  run is a missed firing), `schedule.deadman` (no successful run within its `expect_every`), `queue.stalled`
  (a queue that is not paused has tasks that never started waiting longer than the threshold). At most one
  alert per condition key is open (the database holds it under races); a new alert gets one delivery per
  configured target.
- `DeliverAlerts` sends the due deliveries: each is claimed with a compare-and-set first (two schedulers never
  both send one), POSTed as JSON signed with HMAC-SHA256, and marked delivered on a 2xx, else retried with
  backoff until the give-up time (then `given_up`, with the last error).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from rqledger.application.errors import AdapterError, DeliveryFailed
from rqledger.application.ports import AlertQuery, AlertSender, Clock, Page, QueuePauses, ScheduleQuery, UnitOfWork
from rqledger.domain.alert import Alert, AlertKind, Backoff, Condition, Delivery, DeliveryStatus
from rqledger.domain.errors import ConcurrentUpdate, DuplicateAlert
from rqledger.domain.schedule import RunStatus, ScheduledTask, ScheduleStatus

log = logging.getLogger("rqledger.alerts")

SCHEDULES_READ = 5000  # schedules looked at per round, newest first
MISSED_READ = 50  # runs read to count a schedule's missed firings in a row


@dataclass(frozen=True)
class AlertSettings:
    """RQLEDGER_ALERT_*: where alerts go and when conditions count."""

    targets: tuple[str, ...] = ()  # webhook URLs
    secret: str | None = None  # signs each body: X-Rqledger-Signature: sha256=<hex>
    failed_window: float = 3600.0  # task.failed: one alert per task type per window of this many seconds
    stalled_after: float = 600.0  # queue.stalled: never-started tasks waiting longer than this
    backoff: Backoff = field(default_factory=Backoff)
    claim_hold: float = 60.0  # a delivery claimed by a sender that died is free again after this


@dataclass
class AlertReport:
    opened: list[Alert] = field(default_factory=list)
    updated: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)


@dataclass
class EvaluateAlerts:
    uow: UnitOfWork
    clock: Clock
    pauses: QueuePauses
    settings: AlertSettings = field(default_factory=AlertSettings)

    def __call__(self) -> AlertReport:
        now = self.clock.now()
        report = AlertReport()
        with self.uow:
            conditions = {c.key: c for c in self.conditions(now)}
            opened = {alert.key: alert for alert in self.uow.alerts.open_alerts()}
            for key, condition in conditions.items():
                alert = opened.get(key)
                if alert is not None:
                    if alert.update(condition, now):
                        self.uow.alerts.save(alert)
                        report.updated.append(alert)
                    continue
                try:
                    alert = self.uow.alerts.add(Alert.open(condition, now))
                except DuplicateAlert:  # another scheduler opened it a moment ago
                    continue
                for target in self.settings.targets:
                    self.uow.alerts.add_delivery(Delivery(alert.id, target, created_at=now, next_attempt_at=now))
                report.opened.append(alert)
            for key, alert in opened.items():
                if key not in conditions:
                    alert.resolve(now)
                    self.uow.alerts.save(alert)
                    report.resolved.append(alert)
            self.uow.commit()
        return report

    def conditions(self, now: datetime) -> list[Condition]:
        """What holds now, read in the open unit of work."""
        return [*self._task_failures(now), *self._schedules(now), *self._stalled_queues(now)]

    def _task_failures(self, now: datetime) -> list[Condition]:
        window = self.settings.failed_window
        start = datetime.fromtimestamp(now.timestamp() // window * window, timezone.utc)
        found = []
        for name, (count, newest) in sorted(self.uow.tasks.failures_by_name(start).items()):
            found.append(Condition(
                key=f"task.failed:{name}:{int(start.timestamp())}", kind=AlertKind.TASK_FAILED, count=count,
                summary=f"{_tasks(count)} of {name} failed for good since {_clock(start)} (the newest: task {newest})",
                subject={"task_name": name, "task_id": newest, "window_start": start.isoformat(),
                         "window_seconds": window}))
        return found

    def _schedules(self, now: datetime) -> list[Condition]:
        found = []
        for schedule in self._active_schedules():
            subject = {"schedule_id": schedule.id, "schedule_name": schedule.name, "owner": schedule.owner}
            last = schedule.last_run
            if last is not None and last.status is RunStatus.FAILED:
                runs = self.uow.schedules.list_runs(schedule.id, limit=schedule.alert_after_failures).items
                if len(runs) == schedule.alert_after_failures and all(r.status is RunStatus.FAILED for r in runs):
                    found.append(Condition(
                        key=f"schedule.failing:{schedule.id}", kind=AlertKind.SCHEDULE_FAILING, count=len(runs),
                        summary=f"schedule {schedule.id} ({schedule.name}) failed its last {len(runs)} runs, the "
                                f"newest due at {_clock(runs[0].scheduled_at)}",
                        subject={**subject, "run_ids": [r.id for r in runs]}))
            if last is not None and last.status is RunStatus.MISSED:
                runs = self.uow.schedules.list_runs(schedule.id, limit=MISSED_READ).items
                missed = []
                for run in runs:
                    if run.status is not RunStatus.MISSED:
                        break
                    missed.append(run)
                if missed:
                    found.append(Condition(
                        key=f"schedule.missed:{schedule.id}", kind=AlertKind.SCHEDULE_MISSED, count=len(missed),
                        summary=f"schedule {schedule.id} ({schedule.name}) missed {_firings(len(missed))} (no "
                                f"scheduler ran), the newest due at {_clock(missed[0].scheduled_at)}",
                        subject={**subject, "run_ids": [r.id for r in missed]}))
            if schedule.expect_every is not None:
                success = self.uow.schedules.last_success(schedule.id)
                since = success or schedule.created_at or now
                if now - _aware(since) > timedelta(seconds=schedule.expect_every):
                    found.append(Condition(
                        key=f"schedule.deadman:{schedule.id}", kind=AlertKind.SCHEDULE_DEADMAN,
                        summary=f"schedule {schedule.id} ({schedule.name}) has had no successful run "
                                f"{'since ' + _clock(success) if success else 'since it was created, ' + _clock(since)}"
                                f" (expected every {_span(schedule.expect_every)})",
                        subject={**subject, "expect_every": schedule.expect_every,
                                 "last_success": _aware(success).isoformat() if success else None}))
        return found

    def _active_schedules(self) -> list[ScheduledTask]:
        query = ScheduleQuery(statuses=frozenset({ScheduleStatus.RUNNING, ScheduleStatus.FAILED}), limit=500)
        schedules: list[ScheduledTask] = []
        while len(schedules) < SCHEDULES_READ:
            page = self.uow.schedules.list(query)
            schedules.extend(page.items)
            if page.next_cursor is None:
                break
            query = ScheduleQuery(statuses=query.statuses, limit=500, before_id=page.next_cursor)
        return schedules

    def _stalled_queues(self, now: datetime) -> list[Condition]:
        waiting = self.uow.tasks.waiting_by_queue()
        if not waiting:
            return []
        try:
            paused = set(self.pauses.paused())
        except AdapterError:
            paused = set()
        found = []
        for queue, (oldest, count) in sorted(waiting.items()):
            age = (now - _aware(oldest)).total_seconds()
            if queue in paused or age <= self.settings.stalled_after:
                continue
            found.append(Condition(
                key=f"queue.stalled:{queue}", kind=AlertKind.QUEUE_STALLED, count=count,
                summary=f"queue {queue}: {_tasks(count)} waiting that no worker started, the oldest since "
                        f"{_clock(oldest)} (more than {_span(self.settings.stalled_after)})",
                subject={"queue": queue, "oldest_enqueued_at": _aware(oldest).isoformat()}))
        return found


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    given_up: list[int] = field(default_factory=list)


@dataclass
class DeliverAlerts:
    uow: UnitOfWork
    clock: Clock
    sender: AlertSender
    settings: AlertSettings = field(default_factory=AlertSettings)
    batch: int = 100

    def __call__(self) -> DeliveryReport:
        report = DeliveryReport()
        with self.uow:
            due = self.uow.alerts.due_deliveries(self.clock.now(), limit=self.batch)
        for delivery in due:
            claimed = self._claim(delivery)
            if claimed is None:
                continue
            delivery, alert = claimed
            try:
                self.sender.send(delivery.target, *self.message(alert, delivery))
            except DeliveryFailed as exc:
                self._settle(delivery, str(exc), report)
            else:
                self._settle(delivery, None, report)
        return report

    def message(self, alert: Alert, delivery: Delivery) -> tuple[bytes, dict[str, str]]:
        """The body (the same for every attempt of an alert as it stands) and its headers."""
        body = json.dumps(alert_document(alert), ensure_ascii=False, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "rqledger-alerts",
                   "X-Rqledger-Alert": str(alert.id), "X-Rqledger-Delivery": str(delivery.id),
                   "X-Rqledger-Attempt": str(delivery.attempts)}
        if self.settings.secret:
            headers["X-Rqledger-Signature"] = "sha256=" + sign(self.settings.secret, body)
        return body, headers

    def _claim(self, delivery: Delivery) -> tuple[Delivery, Alert] | None:
        try:
            with self.uow:
                self.uow.alerts.track_delivery(delivery)
                delivery.claim(self.clock.now(), self.settings.claim_hold)
                self.uow.alerts.save_delivery(delivery)
                alert = self.uow.alerts.get(delivery.alert_id)
                self.uow.commit()
            return delivery, alert
        except ConcurrentUpdate:
            return None  # another sender took it

    def _settle(self, delivery: Delivery, error: str | None, report: DeliveryReport) -> None:
        now = self.clock.now()
        try:
            with self.uow:
                self.uow.alerts.track_delivery(delivery)  # as this sender claimed it
                if error is None:
                    delivery.delivered(now)
                else:
                    delivery.failed(error, now, self.settings.backoff)
                self.uow.alerts.save_delivery(delivery)
                self.uow.commit()
        except ConcurrentUpdate:  # our claim ran out and another sender took it over
            log.warning("alert delivery %s: its outcome was not recorded, another sender holds it", delivery.id)
            return
        if error is None:
            report.delivered.append(delivery.id)
            return
        (report.given_up if delivery.status is DeliveryStatus.GIVEN_UP else report.retried).append(delivery.id)
        log.warning("alert %s to %s not delivered (attempt %d%s): %s", delivery.alert_id, delivery.target,
                    delivery.attempts, ", given up" if delivery.status is DeliveryStatus.GIVEN_UP else "", error)


@dataclass
class ListAlerts:
    uow: UnitOfWork

    def __call__(self, query: AlertQuery) -> Page:
        with self.uow:
            return self.uow.alerts.list(query)


@dataclass
class GetAlert:
    uow: UnitOfWork

    def __call__(self, alert_id: int) -> tuple[Alert, list[Delivery]]:
        with self.uow:
            alert = self.uow.alerts.get(alert_id)
            return alert, self.uow.alerts.deliveries_of([alert_id])[alert_id]


def alert_document(alert: Alert) -> dict:
    """An alert as JSON (the webhook's body, the API's answer without deliveries)."""
    return {"id": alert.id, "kind": alert.kind.value, "status": alert.status.value, "summary": alert.summary,
            "count": alert.count, "subject": dict(alert.subject), "created_at": _iso(alert.created_at),
            "updated_at": _iso(alert.updated_at), "resolved_at": _iso(alert.resolved_at)}


def sign(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `body` under `secret` (X-Rqledger-Signature: sha256=<this>)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else _aware(moment).isoformat()


def _clock(moment: datetime) -> str:
    return _aware(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def _tasks(count: int) -> str:
    return f"{count} task" + ("" if count == 1 else "s")


def _firings(count: int) -> str:
    return f"{count} firing" + ("" if count == 1 else "s")


def _span(seconds: float) -> str:
    """Whole units: 45 s, 10 min, 3 h, 2 d (rounded down)."""
    seconds = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size or (seconds >= size and seconds % size == 0):
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
