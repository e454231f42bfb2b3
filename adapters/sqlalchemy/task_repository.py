"""Tasks and their attempts on SQL. Every status write is a compare-and-set on `version`."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Sequence

from sqlalchemy import Text, bindparam, func, insert, or_, select, type_coerce, update
from sqlalchemy.schema import Sequence as SqlSequence

from rqledger.adapters.sqlalchemy.compare_and_set import guarded_update
from rqledger.adapters.sqlalchemy.conversion import attempt_from_row, attempt_values, task_from_row, task_values
from rqledger.adapters.sqlalchemy.errors import WriteRefused
from rqledger.adapters.sqlalchemy.statistics import attempt_duration_buckets, tasks_by_name_and_status
from rqledger.adapters.sqlalchemy.tables import task_attempts, tasks
from rqledger.adapters.sqlalchemy.types import dump_json, storable_text
from rqledger.adapters.sqlalchemy.values import refuse_unstorable
from rqledger.application.ports import EndedTask, Histogram, Page, TaskQuery
from rqledger.domain.errors import DuplicateUniqueTask, TaskNotFound
from rqledger.domain.task import ACTIVE, Attempt, AttemptOutcome, Task, TaskStatus, unique_keys

if TYPE_CHECKING:
    from rqledger.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

_JSON_FIELDS = ("args", "kwargs", "result", "retry_policy")
_ACTIVE = [status.value for status in ACTIVE]
_ENDED = [status.value for status in (TaskStatus.FINISHED, TaskStatus.FAILED, TaskStatus.CANCELED)]
_INSERT = insert(tasks)
_INSERT_RETURNING = insert(tasks).returning(tasks.c.id)
_INSERT_RETURNING_IDS = insert(tasks).returning(tasks.c.id, sort_by_parameter_order=True)
# ids for a batch, in order (PostgreSQL): the sequence behind rqledger_tasks.id (its BIGSERIAL's), one value per
# row. A Sequence object, not its name in SQL text, so that a ledger schema (schema_translate_map) reaches it too.
_TASK_IDS = SqlSequence("rqledger_tasks_id_seq")
_NEXT_IDS = select(_TASK_IDS.next_value()).select_from(func.generate_series(1, bindparam("n")))


def _check_storable(values: dict) -> None:
    for name in _JSON_FIELDS:
        dump_json(values.get(name))


class SqlAlchemyTaskRepository:
    """Reads and writes with Core statements; rows become Task entities in conversion.py."""

    def __init__(self, uow: "SqlAlchemyUnitOfWork"):
        self._uow = uow

    def add(self, task: Task) -> Task:
        with self._claiming([task]):
            return self._add(task)

    def _add(self, task: Task) -> Task:
        values = task_values(task)
        try:
            result = self._uow.execute(_INSERT, values)
        except (TypeError, ValueError) as exc:
            refuse_unstorable("task", "(new)", values, _JSON_FIELDS, exc)
        task.id = result.inserted_primary_key[0]
        self._added(task)
        return task

    def add_many(self, new: Sequence[Task]) -> list[Task]:
        """One multi-row INSERT ... RETURNING id (SQLAlchemy's insertmanyvalues), ids in the order given.

        A database without INSERT ... RETURNING (MySQL) gets one INSERT per task instead.
        A unique key that another task holds (or that two of `new` would) raises DuplicateUniqueTask
        naming the refused task's position in `new`, and none of `new` is written.
        """
        with self._claiming(new):
            return self._add_many(new)

    def _add_many(self, new: Sequence[Task]) -> list[Task]:
        dialect = self._uow.engine.dialect
        if len(new) > 1 and dialect.name == "postgresql":
            return self._add_many_with_ids(new)
        if len(new) <= 1 or not dialect.insert_executemany_returning:
            return [self._add(task) for task in new]
        rows = [task_values(task) for task in new]
        # SQLite gives each row of one INSERT the next rowid, in VALUES order, under the write lock: the
        # ids sorted are the rows' in order (SQLAlchemy would otherwise fall back to a statement per row)
        sqlite = dialect.name == "sqlite"
        if not sqlite and not dialect.insert_executemany_returning_sort_by_parameter_order:
            return [self._add(task) for task in new]
        try:
            result = self._uow.execute(_INSERT_RETURNING if sqlite else _INSERT_RETURNING_IDS, rows)
        except (TypeError, ValueError) as exc:
            _refuse_the_unstorable(rows, exc)
        ids = result.scalars().all()
        for task, task_id in zip(new, sorted(ids) if sqlite else ids):
            task.id = task_id
            self._added(task)
        return list(new)

    def _add_many_with_ids(self, new: Sequence[Task]) -> list[Task]:
        """PostgreSQL: the ids first (one nextval query), then one executemany of a one-row INSERT.

        A multi-row INSERT ... RETURNING is a new statement text for every batch size, too long for
        psycopg's query cache: parsing its thousands of placeholders cost more than the insert
        (~0.6 ms per row measured); the one-row INSERT is parsed once and its rows sent together.
        """
        rows = [task_values(task) for task in new]
        ids = self._uow.execute(_NEXT_IDS, {"n": len(rows)}).scalars().all()
        for values, task_id in zip(rows, ids):
            values["id"] = task_id
        try:
            self._uow.execute(_INSERT, rows)
        except (TypeError, ValueError) as exc:
            _refuse_the_unstorable(rows, exc)
        for task, task_id in zip(new, ids):
            task.id = task_id
            self._added(task)
        return list(new)

    def _added(self, task: Task) -> None:
        transaction = self._uow.transaction()
        transaction.task_versions[task.id] = task.version
        transaction.attempts[task.id] = {}
        if task.history:
            self._write_attempts(task)

    def get(self, task_id: int) -> Task:
        row = self._uow.execute(select(tasks).where(tasks.c.id == task_id)).first()
        if row is None:
            raise TaskNotFound(task_id)
        return self._entities([row])[0]

    def save(self, task: Task) -> None:
        """UPDATE ... WHERE id = :id AND version = :read; no row matched: someone else wrote first."""
        transaction = self._uow.transaction()
        # only a queued task can be taking its key anew (a user retry); a running or ended one keeps or frees it
        with self._claiming([task] if task.status is TaskStatus.QUEUED else []):
            guarded_update(self._uow, tasks, task, kind="task", values=task_values(task), guard=tasks.c.version,
                           read=transaction.task_versions.get(task.id), json_fields=_JSON_FIELDS,
                           status_type=TaskStatus, not_found=TaskNotFound)
        transaction.task_versions[task.id] = task.version
        self._write_attempts(task)

    def track(self, task: Task) -> None:
        transaction = self._uow.transaction()
        transaction.task_versions[task.id] = task.version
        transaction.attempts[task.id] = {a.number: attempt_values(a) for a in task.history}

    def delete(self, task_id: int) -> None:
        # its attempts go with it: ON DELETE CASCADE
        result = self._uow.execute(tasks.delete().where(tasks.c.id == task_id))
        if result.rowcount != 1:
            raise TaskNotFound(task_id)

    def list(self, query: TaskQuery) -> Page:
        statement = select(tasks)
        if query.statuses:
            statement = statement.where(tasks.c.status.in_(sorted(s.value for s in query.statuses)))
        if query.name is not None:
            statement = statement.where(tasks.c.name == query.name)
        if query.owner is not None:
            statement = statement.where(tasks.c.owner == query.owner)
        if query.before_id is not None:
            statement = statement.where(tasks.c.id < query.before_id)
        if query.ended_before is not None:
            statement = statement.where(tasks.c.ended_at < query.ended_before)
        if query.queue is not None:
            statement = statement.where(tasks.c.queue == query.queue)
        if query.created_since is not None:
            statement = statement.where(tasks.c.created_at >= query.created_since)
        if query.created_until is not None:
            statement = statement.where(tasks.c.created_at < query.created_until)
        if query.text:
            statement = statement.where(_search(query))
        limit = max(query.limit, 0)
        # one row more than asked says whether there is a next page, without a COUNT
        rows = self._uow.execute(statement.order_by(tasks.c.id.desc()).limit(limit + 1)).all()
        items = self._entities(rows[:limit])
        return Page(items, items[-1].id if len(rows) > limit and items else None)

    def find_active(self, name: str, owner: str | None) -> Task | None:
        statement = select(tasks).where(tasks.c.name == name, tasks.c.status.in_(_ACTIVE))
        if owner is not None:
            statement = statement.where(tasks.c.owner == owner)
        row = self._uow.execute(statement.order_by(tasks.c.id).limit(1)).first()
        return self._entities([row])[0] if row is not None else None

    def record_progress(self, task_id: int, attempt: int, percent: int) -> bool:
        """One UPDATE, guarded by status and attempt rather than by version (progress is not a transition)."""
        result = self._uow.execute(
            update(tasks)
            .where(tasks.c.id == task_id, tasks.c.status == TaskStatus.RUNNING.value, tasks.c.attempts == attempt)
            .values(progress=percent)
        )
        return result.rowcount == 1

    # -- unique keys --------------------------------------------------

    @contextmanager
    def _claiming(self, written: Sequence[Task]):
        """Runs a write of `written` that may take unique keys; a key held already raises DuplicateUniqueTask.

        Two of `written` with one key are refused before anything is written. Otherwise the write runs
        in a savepoint (only when some key is at stake: two more round trips): the unique index
        refuses a key another transaction took since our read, PostgreSQL would abort the whole
        transaction there, and the savepoint keeps it usable, for the lookup of the holder and for a
        caller's own transaction that the unit of work joined.
        """
        keys = unique_keys(written)
        if not keys:
            yield
            return
        try:
            with self._uow.savepoint():
                yield
        except WriteRefused as exc:
            if "unique_key" not in str(exc.original):  # the index (or column) each database names
                raise
            raise self._refusal(written, keys) from None

    def _refusal(self, written: Sequence[Task], keys: dict[str, int]) -> DuplicateUniqueTask:
        """DuplicateUniqueTask for the first of `written` whose key another task holds, naming that task.

        The holder is read in a new statement (READ COMMITTED: the committed winner is visible); when it
        is not (it ended since, or a caller's transaction reads an older snapshot) the refusal names none.
        """
        rows = self._uow.execute(select(tasks.c.unique_key, tasks.c.id).where(tasks.c.unique_key.in_(list(keys))))
        holders = dict(rows.all())
        index = next((i for key, i in keys.items() if key in holders), next(iter(keys.values())))
        task = written[index]
        return DuplicateUniqueTask(task.name, task.owner, holders.get(task.unique_key), index)

    # -- numbers (GROUP BY, see statistics.py) -------------------------

    def count_by_name_and_status(self) -> dict[tuple[str, TaskStatus], int]:
        rows = self._uow.execute(tasks_by_name_and_status())
        return {(name, TaskStatus(status)): count for name, status, count in rows}

    def count_active_by_queue(self) -> dict[tuple[str, TaskStatus], int]:
        rows = self._uow.execute(select(tasks.c.queue, tasks.c.status, func.count()).where(
            tasks.c.status.in_(_ACTIVE)).group_by(tasks.c.queue, tasks.c.status))
        return {(queue, TaskStatus(status)): count for queue, status, count in rows}

    def failures_by_name(self, since) -> dict[str, tuple[int, int]]:
        rows = self._uow.execute(select(tasks.c.name, func.count(), func.max(tasks.c.id)).where(
            tasks.c.status == TaskStatus.FAILED.value, tasks.c.ended_at >= since).group_by(tasks.c.name))
        return {name: (count, newest) for name, count, newest in rows}

    def waiting_by_queue(self) -> dict:
        rows = self._uow.execute(select(tasks.c.queue, func.min(tasks.c.enqueued_at), func.count()).where(
            tasks.c.status == TaskStatus.QUEUED.value, tasks.c.attempts == 0).group_by(tasks.c.queue))
        return {queue: (oldest, count) for queue, oldest, count in rows if oldest is not None}

    def attempt_durations(self, bounds: Sequence[float]) -> dict[tuple[str, AttemptOutcome], Histogram]:
        histograms: dict[tuple[str, AttemptOutcome], Histogram] = {}
        for name, outcome, bucket, count, micros in self._uow.execute(attempt_duration_buckets(bounds)):
            histogram = histograms.setdefault((name, AttemptOutcome(outcome)), Histogram(tuple(bounds)))
            histogram.counts[bucket] += count
            histogram.count += count
            histogram.sum += int(micros) / 1_000_000  # SUM is a Decimal on PostgreSQL and MariaDB
        return histograms

    def ended_since(self, since, limit: int, owner: str | None = None) -> list[EndedTask]:
        """A range of the ended_at index, newest first, cut at `limit`: bounded by the window, never the ledger."""
        statement = (select(tasks.c.name, tasks.c.status, tasks.c.started_at, tasks.c.ended_at)
                     .where(tasks.c.ended_at >= since, tasks.c.status.in_(_ENDED)))
        if owner is not None:
            statement = statement.where(tasks.c.owner == owner)
        rows = self._uow.execute(statement.order_by(tasks.c.ended_at.desc()).limit(max(limit, 0)))
        return [EndedTask(name, TaskStatus(status), started, ended) for name, status, started, ended in rows]

    # -- attempts -----------------------------------------------------

    def _entities(self, rows) -> list[Task]:
        """Tasks with their history (one more query, only for tasks that ever started); remembers what was read."""
        transaction = self._uow.transaction()
        started = [row.id for row in rows if row.attempts]
        histories: dict[int, list[Attempt]] = {row.id: [] for row in rows}
        if started:
            attempt_rows = self._uow.execute(
                select(task_attempts).where(task_attempts.c.task_id.in_(started))
                .order_by(task_attempts.c.task_id, task_attempts.c.number)
            )
            for attempt_row in attempt_rows:
                histories[attempt_row.task_id].append(attempt_from_row(attempt_row))
        entities = []
        for row in rows:
            transaction.task_versions.setdefault(row.id, row.version)
            transaction.attempts.setdefault(
                row.id, {a.number: attempt_values(a) for a in histories[row.id]})
            entities.append(task_from_row(row, histories[row.id]))
        return entities

    def _write_attempts(self, task: Task) -> None:
        """Inserts the attempts this unit of work has not seen, updates those that changed."""
        transaction = self._uow.transaction()
        known = transaction.attempts.get(task.id)
        if known is None:  # saved without being read here: learn what is stored first
            stored = self._uow.execute(select(task_attempts).where(task_attempts.c.task_id == task.id))
            known = transaction.attempts[task.id] = {r.number: attempt_values(attempt_from_row(r)) for r in stored}
        for attempt in task.history:
            values = attempt_values(attempt)
            before = known.get(attempt.number)
            if before is None:
                self._uow.execute(insert(task_attempts), {**values, "task_id": task.id})
            elif before != values:
                changes = {k: v for k, v in values.items() if k != "number"}
                self._uow.execute(
                    update(task_attempts)
                    .where(task_attempts.c.task_id == task.id, task_attempts.c.number == attempt.number),
                    changes,
                )
            known[attempt.number] = values


# The text search's columns, as the text they hold (type_coerce: the JSON ones' search text is bound as text, not
# JSON-encoded). Case: LOWER() on both sides (ILIKE on PostgreSQL); SQLite folds only ASCII letters.
_SEARCHED = [type_coerce(column, Text) for column in
             (tasks.c.name, tasks.c.args, tasks.c.kwargs, tasks.c.result, tasks.c.description, tasks.c.log)]


def _search(query: TaskQuery):
    """The text search: a whole number is that id (the primary key); other text a LIKE '%text%' (autoescaped:
    % and _ are literal) over the text columns.

    No index serves a LIKE with a leading '%'. What bounds it is the page: rows are read newest first (the
    primary key, with the other filters) and the statement stops at the page's limit + 1 matches, so a common
    text costs a few pages of rows; a rare one, or one that matches nothing, reads every row the other filters
    leave: at 1,000,000 tasks, a scan of the whole table (its logs and results included) per page, measured at
    ~1.2 s on SQLite, ~1.1-2 s on PostgreSQL and ~2.3 s on MariaDB (short rows, this 2-core VM). PostgreSQL's
    planner also scans for a common text (~1.3 s) where the others stop after a few pages (3-4 ms). Narrow it
    with the status, type, queue or time range (docs/STATUS.md, issue 18).
    """
    if query.search_id is not None:
        return tasks.c.id == query.search_id
    text = storable_text(query.text)  # a NUL as the log holds it (and as PostgreSQL can take it)
    return or_(*(column.icontains(text, autoescape=True) for column in _SEARCHED))


def _refuse_the_unstorable(rows: list[dict], exc: Exception):
    """A batch's insert refused a value: names the first row JSON cannot hold, else re-raises `exc`."""
    for values in rows:
        try:
            _check_storable(values)
        except (TypeError, ValueError):
            refuse_unstorable("task", "(new)", values, _JSON_FIELDS, exc)
    raise exc
