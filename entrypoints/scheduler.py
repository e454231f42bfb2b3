"""`rqledger scheduler`: fires scheduled and cron tasks, and keeps rq-scheduler's triggers in line with the ledger.

Any number of these processes may run: rq-scheduler's lock lets one pass run at a
time, each firing is enqueued once under its own job id, and the run record is
unique per (schedule, scheduled time) at the database, so nothing runs twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from adapters.scheduler import LedgerScheduler, RqScheduler, ScheduleReconciler
from application.errors import AdapterError
from entrypoints.container import Container

log = logging.getLogger("rqledger.scheduler")


@dataclass
class SchedulerProcess:
    """The loop of `rqledger scheduler`, on a configured container."""

    container: Container
    interval: float = 1.0  # seconds between passes: how late a firing may be
    reconcile_every: float = 60.0  # seconds between reconciliations after the one at start
    name: str | None = None
    _last_reconcile: float = field(default=0.0, init=False)
    loop: LedgerScheduler | None = field(default=None, init=False)

    def run(self, burst: bool = False, install_signal_handlers: bool = True) -> None:
        """Reconciles, then fires due schedules until SIGTERM/SIGINT (or once, with `burst`)."""
        scheduler = self.container.scheduler()
        if not isinstance(scheduler, RqScheduler):
            raise RuntimeError("`rqledger scheduler` needs the rq queue backend (RQLEDGER_QUEUE_BACKEND=rq)")
        reconciler = ScheduleReconciler(self.container.uow(), scheduler)
        report = reconciler()
        log.info("scheduler started: %d trigger(s) restored, %d removed", len(report.restored), len(report.removed))
        self._last_reconcile = time.monotonic()
        self.loop = LedgerScheduler(scheduler.connection, calendar=self.container.calendar(),
                                    clock=self.container.clock(), run_function=scheduler.run_function,
                                    interval=self.interval, name=self.name)
        self.loop.run(burst=burst, between_passes=lambda: self._reconcile_when_due(reconciler),
                      install_signal_handlers=install_signal_handlers)
        log.info("scheduler stopped")

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.stop()

    def _reconcile_when_due(self, reconciler: ScheduleReconciler) -> None:
        if time.monotonic() - self._last_reconcile < self.reconcile_every:
            return
        self._last_reconcile = time.monotonic()
        try:
            reconciler()
        except AdapterError as exc:  # Redis or the database is down: firing goes on, the next round retries
            log.warning("reconciliation skipped: %s", exc)
