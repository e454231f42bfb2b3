"""`rqledger reconcile`: the task reconciler by hand (the scheduler runs it on its own every few seconds).

It converges the ledger and Redis (rqledger.application.reconcile): queued rows whose job
is missing are re-enqueued, running rows whose job ended take RQ's outcome,
running rows whose worker is gone are failed or retried, and RQ jobs of ours
without a row are reported. It takes the scheduler's maintenance lock, so it
never runs at the same time as a scheduler's round.
"""

from __future__ import annotations

import time

import click

from rqledger.application.reconcile import ReconcileReport
from rqledger.entrypoints.command_errors import one_line_errors


def _container():
    from rqledger.entrypoints.container import build_container

    given = click.get_current_context().find_root().obj  # a container a caller brought (tests)
    return given if given is not None else build_container()


@click.command("reconcile")
@click.option("--once", is_flag=True, help="One pass, print what it repaired, exit.")
@click.option("--every", type=click.FloatRange(min=0.5), default=None,
              help="Without --once: seconds between passes (default RQLEDGER_RECONCILE_EVERY or 15).")
@click.option("--wait-for-lock", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds to wait while a scheduler holds the maintenance lock.")
@one_line_errors
def reconcile(once: bool, every: float | None, wait_for_lock: float) -> None:
    """Repair what the ledger and Redis disagree on (lost jobs, dead workers, unrecorded outcomes)."""
    from rqledger.adapters.rq import queue_errors
    from rqledger.adapters.scheduler import RedisLock
    from rqledger.entrypoints.scheduler import MAINTENANCE_LOCK
    from rqledger.entrypoints.worker import worker_name

    container = _container()
    if container.config.queue_backend() != "rq":
        raise click.ClickException("`rqledger reconcile` needs the rq queue backend (RQLEDGER_QUEUE_BACKEND=rq)")
    lock = RedisLock(container.rq_connection(), MAINTENANCE_LOCK, ttl=60, owner=f"reconcile-{worker_name()}")
    every = every or float(container.config.reconcile_every() or 15.0)
    while True:
        with queue_errors("take the maintenance lock"):
            _take(lock, wait_for_lock)
        try:
            report = container.reconcile_tasks()()
        finally:
            with queue_errors("release the maintenance lock"):
                lock.release()
        _print(container, report)
        if once:
            return
        time.sleep(every)


def _take(lock, patience: float) -> None:
    deadline = time.monotonic() + patience
    while not lock.acquire():
        if time.monotonic() >= deadline:
            raise click.ClickException(f"another process held the maintenance lock for {patience:g} s; try again")
        time.sleep(0.5)


def _print(container, report: ReconcileReport) -> None:
    if not report:
        click.echo("Nothing to repair: the ledger and Redis agree.")
        return
    for what, ids in (("Re-enqueued", report.requeued), ("Ended", report.ended), ("Retried", report.retried)):
        if ids:
            click.echo(f"{what} {len(ids)} task(s):")
            for task_id in ids:
                click.echo(f"  {_describe(container, task_id)}")
    if report.orphan_jobs:
        click.echo(f"RQ jobs of ours without an active row ({len(report.orphan_jobs)}): "
                   + ", ".join(report.orphan_jobs))


def _describe(container, task_id: int) -> str:
    task = container.get_task()(task_id)
    last = task.log.strip().splitlines()[-1] if task.log.strip() else ""
    return f"task {task.id} {task.name}: {task.status.value}" + (f" ({last})" if last else "")


COMMANDS = [reconcile]
