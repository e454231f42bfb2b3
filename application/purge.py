"""Retention: deletes ended tasks and ended schedule runs past an age, in batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from rqledger.application.ports import Clock, ScheduleQuery, TaskQuery, UnitOfWork
from rqledger.domain.errors import InvalidArguments
from rqledger.domain.schedule import RunStatus
from rqledger.domain.task import ENDED, TaskStatus

ENDED_RUNS = frozenset({RunStatus.FINISHED, RunStatus.FAILED, RunStatus.CANCELED})
BATCH = 500  # one transaction per batch: short locks, and an interrupted purge keeps what it did


def ended_statuses(names: list[str] | None) -> frozenset[str]:
    """The ended status names a purge may delete (all of them by default). Raises InvalidArguments."""
    allowed = {s.value for s in ENDED}
    if not names:
        return frozenset(allowed)
    wrong = [n for n in names if n not in allowed]
    if wrong:
        raise InvalidArguments(f"only ended tasks and runs are purged: status must be one of "
                               f"{', '.join(sorted(allowed))}, not {', '.join(wrong)}", field="status")
    return frozenset(names)


def cutoff_for(clock: Clock, older_than: timedelta):
    if older_than < timedelta(0):
        raise InvalidArguments("the retention age must not be negative", field="older_than")
    return clock.now() - older_than


@dataclass
class PurgeTasks:
    """Deletes tasks that ended (with one of `statuses`) more than `older_than` ago; returns how many."""

    uow: UnitOfWork
    clock: Clock
    batch_size: int = BATCH

    def __call__(self, older_than: timedelta, statuses: list[str] | None = None,
                 on_batch: Callable[[int], None] | None = None) -> int:
        wanted = frozenset(TaskStatus(s) for s in ended_statuses(statuses))
        cutoff = cutoff_for(self.clock, older_than)
        deleted, before = 0, None
        while True:
            with self.uow:
                page = self.uow.tasks.list(TaskQuery(statuses=wanted, ended_before=cutoff, limit=self.batch_size,
                                                     before_id=before))
                doomed = [t.id for t in page.items if t.status in ENDED]  # never a queued or running one
                for task_id in doomed:
                    self.uow.tasks.delete(task_id)
                self.uow.commit()
            deleted += len(doomed)
            if on_batch and doomed:
                on_batch(deleted)
            if page.next_cursor is None:
                return deleted
            before = page.next_cursor  # rows above it are gone or kept on purpose: go on below


@dataclass
class PurgeRuns:
    """Deletes schedule runs that ended (with one of `statuses`) more than `older_than` ago; returns how many.

    The parents stay (their last run is kept on the parent itself).
    """

    uow: UnitOfWork
    clock: Clock
    batch_size: int = BATCH

    def __call__(self, older_than: timedelta, statuses: list[str] | None = None,
                 on_batch: Callable[[int], None] | None = None) -> int:
        wanted = frozenset(RunStatus(s) for s in ended_statuses(statuses))
        cutoff = cutoff_for(self.clock, older_than)
        deleted = 0
        for schedule_id in self._schedule_ids():
            before = None
            while True:
                with self.uow:
                    page = self.uow.schedules.list_runs(schedule_id, limit=self.batch_size, before_id=before)
                    doomed = [r.id for r in page.items
                              if r.status in wanted and r.ended_at is not None and r.ended_at < cutoff]
                    for run_id in doomed:
                        self.uow.schedules.delete_run(run_id)
                    self.uow.commit()
                deleted += len(doomed)
                if on_batch and doomed:
                    on_batch(deleted)
                if page.next_cursor is None:
                    break
                before = page.next_cursor
        return deleted

    def _schedule_ids(self) -> list[int]:
        ids, before = [], None
        while True:
            with self.uow:
                page = self.uow.schedules.list(ScheduleQuery(limit=self.batch_size, before_id=before))
            ids.extend(s.id for s in page.items)
            if page.next_cursor is None:
                return ids
            before = page.next_cursor
