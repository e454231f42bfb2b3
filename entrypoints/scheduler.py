"""`rqledger scheduler`: fires scheduled and cron tasks, and keeps Redis in line with the ledger.

Any number of these processes may run: rq-scheduler's lock lets one pass run at a
time, each firing is enqueued once under its own job id, and the run record is
unique per (schedule, scheduled time) at the database, so nothing runs twice.

Maintenance (at start, then every `reconcile_every` seconds, by one process at a
time under a Redis lock): the schedules' triggers are reconciled with the ledger,
runs left running by a dead worker are ended, and the task reconciler
(application.reconcile) converges the tasks' rows with their RQ jobs. More
repairs join by being added to `maintenance`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from adapters.scheduler import LedgerScheduler, RedisLock, RqScheduler, ScheduleReconciler, StuckRuns
from application.errors import AdapterError
from application.reconcile import ReconcileReport
from entrypoints.container import Container

log = logging.getLogger("rqledger.scheduler")

MAINTENANCE_LOCK = "rqledger:scheduler:maintenance_lock"


@dataclass
class SchedulerProcess:
    """The loop of `rqledger scheduler`, on a configured container."""

    container: Container
    interval: float = 1.0  # seconds between passes: how late a firing may be
    reconcile_every: float = 15.0  # seconds between maintenance rounds after the one at start
    name: str | None = None
    maintenance: list[Callable[[], object]] = field(default_factory=list)
    loop: LedgerScheduler | None = field(default=None, init=False)
    _last_round: float = field(default=0.0, init=False)
    _lock: RedisLock | None = field(default=None, init=False)

    def run(self, burst: bool = False, install_signal_handlers: bool = True) -> None:
        """Maintains, then fires due schedules until SIGTERM/SIGINT (or once, with `burst`)."""
        scheduler = self.container.scheduler()
        if not isinstance(scheduler, RqScheduler):
            raise RuntimeError("`rqledger scheduler` needs the rq queue backend (RQLEDGER_QUEUE_BACKEND=rq)")
        uow = self.container.uow()
        self.maintenance = [
            ScheduleReconciler(uow, scheduler),
            StuckRuns(uow, self.container.scheduled_runs(), scheduler.connection, self.container.clock(),
                      worker_ttl=self.container.config.worker_ttl() or 30.0),
            ReconcileTasks(self.container.reconcile_tasks()),
            *self.maintenance,
        ]
        self.loop = LedgerScheduler(scheduler.connection, calendar=self.container.calendar(),
                                    clock=self.container.clock(), run_function=scheduler.run_function,
                                    interval=self.interval, name=self.name)
        # a round that outlives this (a hung database) lets another process take over
        self._lock = RedisLock(scheduler.connection, MAINTENANCE_LOCK, ttl=max(30, int(self.reconcile_every)),
                               owner=self.loop.name)
        self._maintain()
        log.info("scheduler %s started: a pass every %g s, maintenance every %g s",
                 self.loop.name, self.interval, self.reconcile_every)
        self.loop.run(burst=burst, between_passes=self._maintain_when_due,
                      install_signal_handlers=install_signal_handlers)
        log.info("scheduler %s stopped", self.loop.name)

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.stop()

    def _maintain_when_due(self) -> None:
        if time.monotonic() - self._last_round >= self.reconcile_every:
            self._maintain()

    def _retry_soon(self, seconds: float = 5.0) -> None:
        """The next round comes `seconds` from now, not a whole `reconcile_every` later."""
        self._last_round = time.monotonic() - max(0.0, self.reconcile_every - seconds)

    def _maintain(self) -> None:
        self._last_round = time.monotonic()
        try:
            if not self._lock.acquire():
                log.debug("another scheduler is maintaining; this round is skipped")
                return
        except Exception as exc:  # Redis down: firing stops too; retried after the next pass
            log.warning("maintenance skipped: %s", exc)
            self._retry_soon()
            return
        try:
            for repair in self.maintenance:
                try:
                    repair()
                except AdapterError as exc:  # Redis or the database is down: retried after the next pass
                    log.warning("maintenance %s skipped: %s", type(repair).__name__, exc)
                    self._retry_soon()
                except Exception:
                    log.exception("maintenance %s failed", type(repair).__name__)
        finally:
            try:
                self._lock.release()
            except Exception as exc:
                log.warning("maintenance lock not released (it expires by itself): %s", exc)


@dataclass
class ReconcileTasks:
    """One pass of the task reconciler, with a log line for each kind of repair it made."""

    reconcile: Callable[[], ReconcileReport]

    def __call__(self) -> ReconcileReport:
        report = self.reconcile()
        for what, ids in (("re-enqueued", report.requeued), ("ended", report.ended),
                          ("retried", report.retried)):
            if ids:
                log.warning("reconciler: %s %d task(s): %s", what, len(ids), _ids(ids))
        if report.orphan_jobs:
            log.warning("reconciler: %d RQ job(s) of ours without an active row: %s", len(report.orphan_jobs),
                        _ids(report.orphan_jobs))
        return report


def _ids(ids: list, shown: int = 20) -> str:
    text = ", ".join(str(i) for i in ids[:shown])
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
