"""`rqledger scheduler`: the long-running process that fires schedules."""

from __future__ import annotations

import logging

import click


@click.command("scheduler")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between passes (how late a firing may be); default RQLEDGER_SCHEDULER_INTERVAL or 1.")
@click.option("--reconcile-every", type=click.FloatRange(min=0.5), default=None,
              help="Seconds between maintenance rounds: the task reconciler, triggers, stuck runs (one always "
                   "runs at start); default RQLEDGER_RECONCILE_EVERY or 15.")
@click.option("--burst", is_flag=True, help="Reconcile, run one pass and exit.")
def scheduler(interval: float | None, reconcile_every: float | None, burst: bool) -> None:
    """Fires scheduled and cron tasks; SIGTERM stops it after the current pass."""
    from rqledger.entrypoints.container import build_container
    from rqledger.entrypoints.logs import apply_log_format
    from rqledger.entrypoints.scheduler import SchedulerProcess
    from rqledger.entrypoints.task_modules import announce as announce_task_modules

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    container = build_container()
    apply_log_format(container.config.log_format() or "text")
    announce_task_modules(logging.getLogger("rqledger.scheduler"), container.config.task_modules() or [],
                          container.registry())
    if interval is None:
        interval = float(container.config.scheduler_interval() or 1.0)
    if reconcile_every is None:
        reconcile_every = float(container.config.reconcile_every() or 15.0)
    try:
        SchedulerProcess(container, interval=interval, reconcile_every=reconcile_every).run(burst=burst)
    except RuntimeError as exc:  # a configuration it cannot work with: one line, not a traceback
        raise click.ClickException(str(exc)) from exc


COMMANDS = [scheduler]
