"""Schedules (parents) and their runs on SQL. A run is unique per parent and scheduled time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select

from rqledger.adapters.sqlalchemy.errors import WriteRefused
from rqledger.adapters.sqlalchemy.compare_and_set import guarded_update
from rqledger.adapters.sqlalchemy.conversion import (run_from_row, run_values, schedule_from_row, schedule_key,
                                            schedule_values)
from rqledger.adapters.sqlalchemy.statistics import runs_by_schedule_and_status, schedules_by_name_and_status
from rqledger.adapters.sqlalchemy.tables import scheduled_task_runs as runs
from rqledger.adapters.sqlalchemy.tables import scheduled_tasks as schedules
from rqledger.adapters.sqlalchemy.values import refuse_unstorable
from rqledger.application.ports import Page, ScheduleQuery
from rqledger.domain.errors import ConcurrentUpdate, DuplicateRun, RunNotFound, ScheduleNotFound
from rqledger.domain.schedule import RunStatus, ScheduledTask, ScheduledTaskInstance, ScheduleStatus

if TYPE_CHECKING:
    from rqledger.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork


class SqlAlchemyScheduleRepository:
    def __init__(self, uow: "SqlAlchemyUnitOfWork"):
        self._uow = uow

    def add(self, schedule: ScheduledTask) -> ScheduledTask:
        values = schedule_values(schedule)
        try:
            with self._uow.savepoint():
                result = self._uow.execute(insert(schedules), values)
        except (TypeError, ValueError) as exc:
            refuse_unstorable("schedule", "(new)", values, ("args", "kwargs"), exc)
        except WriteRefused:
            # another process created the same parent (same name, args, kwargs and owner) a moment ago
            existing = self.find(*schedule.natural_key)
            if existing is None:
                raise
            raise ConcurrentUpdate("schedule", existing.id, existing.status, schedule.status) from None
        schedule.id = result.inserted_primary_key[0]
        self._uow.transaction().schedule_versions[schedule.id] = schedule.version
        return schedule

    def get(self, schedule_id: int) -> ScheduledTask:
        row = self._uow.execute(select(schedules).where(schedules.c.id == schedule_id)).first()
        if row is None:
            raise ScheduleNotFound(schedule_id)
        return self._entity(row)

    def find(self, name: str, args: list, kwargs: dict, owner: str | None = None) -> ScheduledTask | None:
        key = schedule_key(name, args, kwargs, owner)
        row = self._uow.execute(select(schedules).where(schedules.c.key_hash == key)).first()
        return self._entity(row) if row is not None else None

    def save(self, schedule: ScheduledTask) -> None:
        """A compare-and-set on `version`, like a task's."""
        transaction = self._uow.transaction()
        guarded_update(self._uow, schedules, schedule, kind="schedule", values=schedule_values(schedule),
                       guard=schedules.c.version, read=transaction.schedule_versions.get(schedule.id),
                       json_fields=("args", "kwargs"), status_type=ScheduleStatus, not_found=ScheduleNotFound)
        transaction.schedule_versions[schedule.id] = schedule.version

    def delete(self, schedule_id: int) -> None:
        """Deletes the parent; its runs go with it (ON DELETE CASCADE)."""
        result = self._uow.execute(schedules.delete().where(schedules.c.id == schedule_id))
        if result.rowcount != 1:
            raise ScheduleNotFound(schedule_id)

    def list(self, query: ScheduleQuery) -> Page:
        statement = select(schedules)
        if query.statuses:
            statement = statement.where(schedules.c.status.in_(sorted(s.value for s in query.statuses)))
        if query.name is not None:
            statement = statement.where(schedules.c.name == query.name)
        if query.owner is not None:
            statement = statement.where(schedules.c.owner == query.owner)
        if query.before_id is not None:
            statement = statement.where(schedules.c.id < query.before_id)
        limit = max(query.limit, 0)
        rows = self._uow.execute(statement.order_by(schedules.c.id.desc()).limit(limit + 1)).all()
        items = [self._entity(row) for row in rows[:limit]]
        return Page(items, items[-1].id if len(rows) > limit and items else None)

    # -- runs -----------------------------------------------------------

    def add_run(self, run: ScheduledTaskInstance) -> ScheduledTaskInstance:
        """INSERT in a savepoint: a duplicate firing raises DuplicateRun and the transaction goes on."""
        values = run_values(run)
        try:
            with self._uow.savepoint():
                result = self._uow.execute(insert(runs), values)
        except (TypeError, ValueError) as exc:
            refuse_unstorable("run", "(new)", values, ("result",), exc)
        except WriteRefused:
            taken = self._uow.execute(select(runs.c.id).where(
                runs.c.schedule_id == run.schedule_id, runs.c.scheduled_at == run.scheduled_at)).first()
            if taken is not None:
                raise DuplicateRun(run.schedule_id, run.scheduled_at) from None
            raise ScheduleNotFound(run.schedule_id) from None
        run.id = result.inserted_primary_key[0]
        self._uow.transaction().run_statuses[run.id] = run.status.value
        return run

    def get_run(self, run_id: int) -> ScheduledTaskInstance:
        row = self._uow.execute(select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            raise RunNotFound(run_id)
        self._uow.transaction().run_statuses.setdefault(row.id, row.status)
        return run_from_row(row)

    def save_run(self, run: ScheduledTaskInstance) -> None:
        """Guarded by the status read: two deliveries of one run cannot both end it."""
        transaction = self._uow.transaction()
        guarded_update(self._uow, runs, run, kind="run", values=run_values(run), guard=runs.c.status,
                       read=transaction.run_statuses.get(run.id), json_fields=("result",),
                       status_type=RunStatus, not_found=RunNotFound)
        transaction.run_statuses[run.id] = run.status.value

    def list_runs(self, schedule_id: int, limit: int = 50, before_id: int | None = None) -> Page:
        statement = select(runs).where(runs.c.schedule_id == schedule_id)
        if before_id is not None:
            statement = statement.where(runs.c.id < before_id)
        limit = max(limit, 0)
        rows = self._uow.execute(statement.order_by(runs.c.id.desc()).limit(limit + 1)).all()
        items = [run_from_row(row) for row in rows[:limit]]
        for row in rows[:limit]:
            self._uow.transaction().run_statuses.setdefault(row.id, row.status)
        return Page(items, items[-1].id if len(rows) > limit and items else None)

    def delete_run(self, run_id: int) -> None:
        """Deletes one run (retention); the parent, and the last run it keeps, stay."""
        result = self._uow.execute(runs.delete().where(runs.c.id == run_id))
        if result.rowcount != 1:
            raise RunNotFound(run_id)
        self._uow.transaction().run_statuses.pop(run_id, None)

    # -- numbers (GROUP BY, see statistics.py) -------------------------

    def count_by_name_and_status(self) -> dict[tuple[str, ScheduleStatus], int]:
        rows = self._uow.execute(schedules_by_name_and_status())
        return {(name, ScheduleStatus(status)): count for name, status, count in rows}

    def count_runs_by_schedule_and_status(self) -> dict[tuple[int, str, RunStatus], int]:
        rows = self._uow.execute(runs_by_schedule_and_status())
        return {(schedule_id, name, RunStatus(status)): count for schedule_id, name, status, count in rows}

    def last_success(self, schedule_id: int):
        return self._uow.execute(select(func.max(runs.c.ended_at)).where(
            runs.c.schedule_id == schedule_id, runs.c.status == RunStatus.FINISHED.value)).scalar()

    def _entity(self, row) -> ScheduledTask:
        self._uow.transaction().schedule_versions.setdefault(row.id, row.version)
        return schedule_from_row(row)
