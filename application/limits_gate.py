"""Per-type limits on attempts: how many run at once (across every worker, and per owner), how often they start.

`@task(concurrency=2)`, `@task(concurrency_per_owner=1)`, `@task(rate_limit="10/m")` (rqledger.application.registry).
The rules live here; the shared counters behind them are a Limiter (rqledger.application.ports): Redis for
real workers, memory for the in-memory path. TaskExecution.start asks `AttemptGate.admit` before an attempt
begins, and ends every attempt with `release`: one path for RQ's job body, the worker's handoff and RunTask.

A concurrency slot is a lease held by `<task id>:<attempt>`, renewed while the attempt runs (`renew`) and
dropped when it ends; the lease of a worker that died runs out after `lease` seconds (RQLEDGER_WORKER_TTL).
A task type without limits costs nothing here: no Limiter call at all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from rqledger.application.errors import AdapterError
from rqledger.application.ports import Limiter
from rqledger.domain.errors import UnknownTaskType
from rqledger.domain.task import Task

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*([smh])\s*$")

# How long a task that found no free slot waits before it asks again (RQ schedules in whole seconds).
SLOT_RECHECK = 1.0
# How long a task waits when the limits could not be read (Redis unreachable): never run past a limit.
UNCHECKED_RECHECK = 5.0
# The first words of the log lines written by waiting tasks: one such line per waiting stretch.
WAITING_LINES = ("waiting for a concurrency slot", "rate limit ", "waiting: the limits could not be checked")


@dataclass(frozen=True)
class Rate:
    """At most `count` starts in any `per` seconds ("10/m", "5/10s", "100/h")."""

    count: int
    per: float
    text: str

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """Raises ValueError for anything but `<count>/<unit>` or `<count>/<n><unit>`, unit s, m or h."""
        match = _RATE.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"rate_limit must look like '10/m' or '5/10s' (units s, m, h), got {text!r}")
        count, how_many, unit = int(match.group(1)), float(match.group(2) or 1), match.group(3)
        per = how_many * _UNITS[unit]
        if count < 1 or per <= 0:
            raise ValueError(f"rate_limit needs at least 1 start per a positive time, got {text!r}")
        return cls(count, per, text.strip())


@dataclass(frozen=True)
class TypeLimits:
    """The limits of one task type; a field left None is no limit."""

    concurrency: int | None = None
    concurrency_per_owner: int | None = None
    rate: Rate | None = None

    def __post_init__(self):
        for name in ("concurrency", "concurrency_per_owner"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")

    @property
    def slots(self) -> bool:
        return self.concurrency is not None or self.concurrency_per_owner is not None

    def __bool__(self) -> bool:
        return self.slots or self.rate is not None

    def to_dict(self) -> dict:
        """As GET /api/task-types shows them: null for no limit."""
        return {"concurrency": self.concurrency, "concurrency_per_owner": self.concurrency_per_owner,
                "rate_limit": self.rate.text if self.rate is not None else None}


NO_LIMITS = TypeLimits()


@dataclass(frozen=True)
class Wait:
    """An attempt that may not begin yet: why (one line for the task's log), and when to ask again."""

    reason: str
    retry_in: float
    task: Task | None = None  # the queued task, as TaskExecution.start read it


def pool_key(name: str) -> str:
    """The slots of every attempt of a type (sized by `concurrency`, unbounded without it: /metrics reads it)."""
    return json.dumps(["slots", name], ensure_ascii=False)


def owner_pool_key(name: str, owner: str | None) -> str:
    """The slots of one owner's attempts of a type; the tasks of no owner share one pool."""
    return json.dumps(["owner-slots", name, owner], ensure_ascii=False)


def rate_key(name: str) -> str:
    return json.dumps(["rate", name], ensure_ascii=False)


def holder_of(task_id: int, attempt: int) -> str:
    return f"{task_id}:{attempt}"


class AttemptGate:
    """Admits attempts under their type's limits; `limits_of(name)` reads them from the task registry."""

    def __init__(self, limiter: Limiter, registry, lease: float = 30.0):
        self.limiter = limiter
        self.registry = registry
        self.lease = float(lease)

    @property
    def renew_every(self) -> float:
        """How often a running attempt renews its slots: four times per lease, as workers heartbeat."""
        return max(self.lease / 4, 0.1)

    def limits_of(self, name: str) -> TypeLimits:
        try:
            return getattr(self.registry.get(name), "limits", None) or NO_LIMITS
        except UnknownTaskType:
            return NO_LIMITS  # the attempt fails without running: nothing to limit

    def admit(self, task: Task) -> Wait | None:
        """Takes what the next attempt of the (queued) `task` needs: its slots, then a start of its rate.
        None when it may begin (its slots are held from now on), else a Wait. Nothing is held after a Wait."""
        limits = self.limits_of(task.name)
        if not limits:
            return None
        attempt = task.attempts + 1
        try:
            if limits.slots:
                pools = self._pools(task, limits)
                full = self.limiter.acquire(pools, holder_of(task.id, attempt), self.lease)
                if full is not None:
                    return self._no_slot(task, limits, *full)
            if limits.rate is not None:
                wait = self.limiter.take(rate_key(task.name), limits.rate.count, limits.rate.per)
                if wait > 0:
                    self.release(task, attempt)
                    return Wait(f"rate limit {limits.rate.text} reached", wait)
        except AdapterError as exc:
            self.release(task, attempt)
            return Wait(f"waiting: the limits could not be checked ({exc})", UNCHECKED_RECHECK)
        return None

    def renew(self, task: Task, attempt: int) -> None:
        """Extends the leases of a running attempt (a lease lost meanwhile, e.g. to a Redis restart, is taken
        again). Raises AdapterError."""
        limits = self.limits_of(task.name)
        if limits.slots:
            keys = [key for key, _ in self._pools(task, limits)]
            self.limiter.renew(keys, holder_of(task.id, attempt), self.lease)

    def release(self, task: Task, attempt: int) -> None:
        """Frees the slots of an attempt that ended (or never began); never raises: a lease left behind
        runs out by itself."""
        limits = self.limits_of(task.name)
        if not limits.slots:
            return
        try:
            self.limiter.release([key for key, _ in self._pools(task, limits)], holder_of(task.id, attempt))
        except AdapterError:
            pass

    def slots_in_use(self) -> dict[str, tuple[int, int | None]]:
        """Per task type with a concurrency limit: (attempts holding a slot, its `concurrency` or None)."""
        limited = [t for t in self.registry if getattr(t, "limits", NO_LIMITS).slots]
        if not limited:
            return {}
        counts = self.limiter.in_use([pool_key(t.name) for t in limited])
        return {t.name: (n, t.limits.concurrency) for t, n in zip(limited, counts)}

    @staticmethod
    def _pools(task: Task, limits: TypeLimits) -> list[tuple[str, int | None]]:
        pools = [(pool_key(task.name), limits.concurrency)]
        if limits.concurrency_per_owner is not None:
            pools.append((owner_pool_key(task.name, task.owner), limits.concurrency_per_owner))
        return pools

    @staticmethod
    def _no_slot(task: Task, limits: TypeLimits, key: str, running: int) -> Wait:
        if key == pool_key(task.name):
            return Wait(f"waiting for a concurrency slot: {running} of {limits.concurrency} running", SLOT_RECHECK)
        whose = "no owner" if task.owner is None else f"owner {task.owner!r}"
        return Wait(f"waiting for a concurrency slot of {whose}: {running} of {limits.concurrency_per_owner} "
                    f"running", SLOT_RECHECK)


def is_waiting_line(line: str) -> bool:
    """Whether a log line (timestamp included) is a waiting task's note."""
    text = line.split("] ", 1)[-1]
    return text.startswith(WAITING_LINES)
