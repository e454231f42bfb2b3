"""Alerts: something an operator must hear of (a task failed for good, a schedule failing, missed or silent, a
queue nobody takes from), recorded as a row and delivered to each configured target.

An alert is open while its condition holds and resolved when it no longer does; a task failure is an event
counted per task type in a window, whose alert resolves when the window ends. `key` names the condition (a
schedule's dead-man check, a task type's failures in one window): at most one alert per key is open at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from rqledger.domain.errors import IllegalTransition


class AlertKind(str, Enum):
    TASK_FAILED = "task.failed"  # tasks of one type failed for good (counted per window)
    SCHEDULE_FAILING = "schedule.failing"  # a schedule's last N runs failed
    SCHEDULE_MISSED = "schedule.missed"  # a schedule's firings were missed (no scheduler ran)
    SCHEDULE_DEADMAN = "schedule.deadman"  # no successful run within the schedule's expect_every
    QUEUE_STALLED = "queue.stalled"  # a queue's oldest task waits longer than the threshold


class AlertStatus(str, Enum):
    OPEN = "open"
    RESOLVED = "resolved"


class DeliveryStatus(str, Enum):
    PENDING = "pending"  # to be sent (again) at next_attempt_at
    SENDING = "sending"  # claimed by one scheduler until claimed_until
    DELIVERED = "delivered"  # the target answered 2xx
    GIVEN_UP = "given_up"  # not acknowledged within the give-up time


@dataclass(frozen=True)
class Condition:
    """What a rule found: the alert it asks for (opened, or updated when open already)."""

    key: str
    kind: AlertKind
    summary: str
    subject: dict
    count: int = 1


@dataclass(eq=False)
class Alert:
    key: str
    kind: AlertKind
    summary: str
    subject: dict
    created_at: datetime
    count: int = 1
    id: int | None = None
    status: AlertStatus = AlertStatus.OPEN
    updated_at: datetime | None = None
    resolved_at: datetime | None = None
    version: int = 0

    @classmethod
    def open(cls, condition: Condition, now: datetime) -> "Alert":
        return cls(key=condition.key, kind=condition.kind, summary=condition.summary, subject=dict(condition.subject),
                   count=condition.count, created_at=now, updated_at=now)

    @property
    def open_key(self) -> str | None:
        """The key no other open alert may hold (None once resolved)."""
        return self.key if self.status is AlertStatus.OPEN else None

    def update(self, condition: Condition, now: datetime) -> bool:
        """Takes the condition's newer count and summary; whether anything changed."""
        if self.status is not AlertStatus.OPEN:
            raise IllegalTransition("alert", self.id, self.status, self.status, "a resolved alert stays as it was")
        if (self.summary, self.count, self.subject) == (condition.summary, condition.count, condition.subject):
            return False
        self.summary, self.count, self.subject = condition.summary, condition.count, dict(condition.subject)
        self.updated_at = now
        self.version += 1
        return True

    def resolve(self, now: datetime) -> None:
        if self.status is not AlertStatus.OPEN:
            raise IllegalTransition("alert", self.id, self.status, AlertStatus.RESOLVED)
        self.status = AlertStatus.RESOLVED
        self.resolved_at = self.updated_at = now
        self.version += 1


@dataclass(eq=False)
class Delivery:
    """One alert to one target (a webhook URL), retried with backoff until acknowledged or given up."""

    alert_id: int
    target: str
    created_at: datetime
    next_attempt_at: datetime
    id: int | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None
    claimed_until: datetime | None = None
    version: int = 0

    def claim(self, now: datetime, hold: float) -> None:
        """This sender sends it now; another sees it as taken until `hold` seconds from now."""
        if not self.due(now):
            raise IllegalTransition("delivery", self.id, self.status, DeliveryStatus.SENDING, "it is not due")
        self.status = DeliveryStatus.SENDING
        self.claimed_until = now + timedelta(seconds=hold)
        self.attempts += 1
        self.version += 1

    def due(self, now: datetime) -> bool:
        if self.status is DeliveryStatus.PENDING:
            return self.next_attempt_at <= now
        # a sender that died holding it: free again once its claim ran out
        return self.status is DeliveryStatus.SENDING and self.claimed_until is not None and self.claimed_until <= now

    def delivered(self, now: datetime) -> None:
        self.status = DeliveryStatus.DELIVERED
        self.delivered_at = now
        self.last_error = None
        self.claimed_until = None
        self.version += 1

    def failed(self, error: str, now: datetime, backoff: "Backoff") -> None:
        """Not acknowledged: tried again after the backoff, or given up once past its time."""
        self.last_error = error[:500]
        self.claimed_until = None
        self.version += 1
        retry_at = now + timedelta(seconds=backoff.after(self.attempts))
        if retry_at - self.created_at > timedelta(seconds=backoff.give_up_after):
            self.status = DeliveryStatus.GIVEN_UP
            return
        self.status = DeliveryStatus.PENDING
        self.next_attempt_at = retry_at


@dataclass(frozen=True)
class Backoff:
    """Seconds before the retry that follows attempt n: first, doubled each time, capped; given up after."""

    first: float = 1.0
    most: float = 600.0
    give_up_after: float = 24 * 3600.0

    def after(self, attempts: int) -> float:
        return min(self.most, self.first * (2 ** max(0, attempts - 1)))
