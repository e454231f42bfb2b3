"""`rqledger scheduler`: fires scheduled and cron tasks, and keeps Redis in line with the ledger.

Any number of these processes may run: rq-scheduler's lock lets one pass run at a
time, each firing is enqueued once under its own job id, and the run record is
unique per (schedule, scheduled time) at the database, so nothing runs twice.

A trigger found overdue (no scheduler fired it at its time: every one was down, or Redis lost it and the
reconciler restored it from the ledger) is caught up by its schedule's policy: its missed firings become
`missed` runs (the newest RQLEDGER_MAX_MISSED_RUNS), and `latest` or `all` run the newest or each, late.

Maintenance (at start, then every `reconcile_every` seconds, by one process at a
time under a Redis lock), in this order, each named for what it does
(rqledger.application.schedule_repairs says the words): RepairTriggers (the schedules'
triggers made to agree with the ledger), EndStuckRuns (runs left running by a dead worker
or a job that is over ended), ReconcileTasks (rqledger.application.reconcile: the tasks'
rows converged with their RQ jobs), EvaluateAlertsStep and DeliverAlertsStep
(rqledger.application.alerts: alerts opened, updated and resolved from the ledger, then
their webhooks sent). The rules live in `application/`; the adapters are their ports.
More steps join by being added to `maintenance`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from rqledger.adapters.scheduler import LedgerScheduler, RedisLock, RqRunJobs, RqScheduler
from rqledger.application.schedule_repairs import EndStuckRuns, RepairTriggers
from rqledger.application.catch_up import DEFAULT_MAX_MISSED
from rqledger.application.errors import AdapterError
from rqledger.application.reconcile import ReconcileReport
from rqledger.entrypoints.container import Container

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
            RepairTriggers(uow, scheduler),
            EndStuckRuns(uow, self.container.scheduled_runs(),
                         RqRunJobs(scheduler.connection, worker_ttl=self.container.config.worker_ttl() or 30.0),
                         self.container.clock()),
            ReconcileTasks(self.container.reconcile_tasks()),
            EvaluateAlertsStep(self.container.evaluate_alerts()),
            DeliverAlertsStep(self.container.deliver_alerts()),
            *self.maintenance,
        ]
        self.loop = LedgerScheduler(scheduler.connection, calendar=self.container.calendar(),
                                    clock=self.container.clock(), run_function=scheduler.run_function,
                                    interval=self.interval, name=self.name,
                                    record_missed=self.container.scheduled_runs().record_missed,
                                    max_missed=self._max_missed())
        # a round that outlives this (a hung database) lets another process take over
        self._lock = RedisLock(scheduler.connection, MAINTENANCE_LOCK, ttl=max(30, int(self.reconcile_every)),
                               owner=self.loop.name)
        self._maintain()
        log.info("scheduler %s started: a pass every %g s, maintenance every %g s",
                 self.loop.name, self.interval, self.reconcile_every)
        self.loop.run(burst=burst, between_passes=self._maintain_when_due,
                      install_signal_handlers=install_signal_handlers)
        log.info("scheduler %s stopped", self.loop.name)

    def _max_missed(self) -> int:
        value = self.container.config.max_missed_runs()
        return DEFAULT_MAX_MISSED if value is None else int(value)

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


@dataclass
class EvaluateAlertsStep:
    """Opens, updates and resolves alerts (rqledger.application.alerts.EvaluateAlerts), a line for each change."""

    evaluate: Callable

    def __call__(self):
        report = self.evaluate()
        for alert in report.opened:
            log.warning("alert %s opened (%s): %s", alert.id, alert.kind.value, alert.summary)
        for alert in report.resolved:
            log.info("alert %s resolved (%s): %s", alert.id, alert.kind.value, alert.summary)
        return report


@dataclass
class DeliverAlertsStep:
    """Sends the alerts' due deliveries (rqledger.application.alerts.DeliverAlerts)."""

    deliver: Callable

    def __call__(self):
        report = self.deliver()
        if report.delivered:
            log.info("alerts: %d delivered", len(report.delivered))
        return report


def _ids(ids: list, shown: int = 20) -> str:
    text = ", ".join(str(i) for i in ids[:shown])
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
