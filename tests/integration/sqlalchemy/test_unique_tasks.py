"""A unique task type holds at the database: concurrent enqueues of one type for one owner admit exactly one.

Each contender is its own EnqueueTask on its own unit of work (its own connection), started together
at a barrier, as 20 web processes answering 20 POSTs at once would be. The read before the insert
(`find_active`) lets several through when they all read before any commits; the unique key of the
row (`rqledger_tasks.unique_key`) refuses all but the first.
"""

from __future__ import annotations

import threading

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from rqledger.adapters.memory import FixedClock, InMemoryEvents, InMemoryStore, InMemoryTaskQueue, InMemoryUnitOfWork
from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_ledger_engine, upgrade
from rqledger.adapters.sqlalchemy.joined import JoinedUnitOfWork
from rqledger.adapters.sqlalchemy.migrate import alembic_config, head_revision
from rqledger.application.ports import TaskQuery
from rqledger.application.registry import TaskRegistry, task
from rqledger.application.tasks import EnqueueTask, RetryTask, TaskRequest
from rqledger.domain.errors import DuplicateUniqueTask
from rqledger.domain.task import Task, TaskStatus

CONTENDERS = 20


@pytest.fixture
def registry():
    registry = TaskRegistry()

    @task(registry=registry, unique=True)
    def export(user: str) -> dict:
        return {"user": user}

    @task(registry=registry)
    def plain(user: str) -> dict:
        return {"user": user}

    return registry


def enqueue_together(new_uow, registry, request: TaskRequest, contenders: int = CONTENDERS) -> list:
    """Each contender enqueues `request` through its own EnqueueTask and unit of work, all released at once."""
    barrier = threading.Barrier(contenders)
    outcomes: list = [None] * contenders
    clock, queue, events = FixedClock(), InMemoryTaskQueue(FixedClock()), InMemoryEvents()

    def contender(index: int) -> None:
        enqueue = EnqueueTask(new_uow(), queue, registry, clock, events)
        try:
            with enqueue.uow:  # connected before the start: none is late for being the one to connect
                enqueue.uow.tasks.find_active(request.name, request.owner)
            barrier.wait(timeout=30)
            outcomes[index] = enqueue(request)
        except Exception as exc:  # DuplicateUniqueTask is expected; anything else fails the test below
            outcomes[index] = exc

    threads = [threading.Thread(target=contender, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def assert_exactly_one_admitted(outcomes: list, uow) -> None:
    admitted = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, DuplicateUniqueTask)]
    others = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, DuplicateUniqueTask)]
    assert not others, others
    assert len(admitted) == 1, f"{len(admitted)} of {len(outcomes)} admitted"
    assert len(refused) == len(outcomes) - 1
    # a refusal names the one admitted, or (when the winner was not yet visible to it) no task at all
    assert {r.existing_id for r in refused} <= {admitted[0].id, None}
    with uow:
        assert [t.id for t in uow.tasks.list(TaskQuery(limit=100)).items] == [admitted[0].id]


@pytest.mark.parametrize("owner", ["ann", None])
def test_twenty_concurrent_enqueues_of_a_unique_type_admit_exactly_one(engine, registry, owner):
    request = TaskRequest("export", ["ann"], owner=owner)
    outcomes = enqueue_together(lambda: SqlAlchemyUnitOfWork(engine), registry, request)
    assert_exactly_one_admitted(outcomes, SqlAlchemyUnitOfWork(engine))


def test_twenty_concurrent_enqueues_on_the_memory_ledger_admit_exactly_one(registry):
    store = InMemoryStore()
    request = TaskRequest("export", ["ann"], owner="ann")
    outcomes = enqueue_together(lambda: InMemoryUnitOfWork(store), registry, request)
    assert_exactly_one_admitted(outcomes, InMemoryUnitOfWork(store))


def test_concurrent_enqueues_of_a_plain_type_are_all_admitted(engine, registry):
    request = TaskRequest("plain", ["ann"], owner="ann")
    outcomes = enqueue_together(lambda: SqlAlchemyUnitOfWork(engine), registry, request, contenders=5)
    assert all(o.status is TaskStatus.QUEUED for o in outcomes), outcomes


# -- the upgrade from 0001_initial ------------------------------------------------------------------------------

def _row(status: str, owner: str) -> dict:
    return {"name": "export", "description": "", "args": "[]", "kwargs": "{}", "status": status,
            "progress": 0, "log": "", "queue": "default", "owner": owner, "attempts": 0, "retry_base": 0,
            "version": 0}


def _insert_0001_rows(url: str, rows: list[dict]) -> None:
    engine = create_ledger_engine(url)
    try:
        with engine.begin() as connection:
            for row in rows:
                columns = ", ".join(row)
                connection.execute(text(f"INSERT INTO rqledger_tasks ({columns}) VALUES "
                                        f"({', '.join(':' + c for c in row)})"), row)
    finally:
        engine.dispose()


def test_the_upgrade_from_0001_keeps_the_rows_which_hold_no_key_and_the_read_still_guards_them(empty_url, registry):
    assert upgrade(empty_url, revision="0001_initial") == (None, "0001_initial")
    # ids 1 to 4, in this order
    _insert_0001_rows(empty_url, [_row("queued", "ann"), _row("running", "bob"), _row("failed", "carl"),
                                  _row("finished", "dora")])
    assert upgrade(empty_url) == ("0001_initial", head_revision())
    engine = create_ledger_engine(empty_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT id, is_unique, unique_key FROM rqledger_tasks ORDER BY id")).all()
        assert [(i, bool(u), k) for i, u, k in stored] == [(n, False, None) for n in (1, 2, 3, 4)]
        uow = SqlAlchemyUnitOfWork(engine)
        enqueue = EnqueueTask(uow, InMemoryTaskQueue(FixedClock()), registry, FixedClock(), InMemoryEvents())
        with pytest.raises(DuplicateUniqueTask, match="task 1 is already queued or running for owner 'ann'"):
            enqueue(TaskRequest("export", ["x"], owner="ann"))  # the read before the insert sees the older row
        with pytest.raises(DuplicateUniqueTask, match="task 2 is already queued or running for owner 'bob'"):
            enqueue(TaskRequest("export", ["x"], owner="bob"))
        dora = enqueue(TaskRequest("export", ["x"], owner="dora"))
        retry = RetryTask(uow, InMemoryTaskQueue(FixedClock()), FixedClock(), InMemoryEvents())
        assert retry(3).status is TaskStatus.QUEUED  # an older row takes no key on a retry either
        with engine.connect() as connection:
            keyed = connection.execute(text("SELECT id FROM rqledger_tasks WHERE unique_key IS NOT NULL")).scalars()
            assert list(keyed) == [dora.id]
    finally:
        engine.dispose()


def test_the_downgrade_to_0001_keeps_every_row(empty_url, registry):
    upgrade(empty_url)
    engine = create_ledger_engine(empty_url)
    try:
        uow = SqlAlchemyUnitOfWork(engine)
        enqueue = EnqueueTask(uow, InMemoryTaskQueue(FixedClock()), registry, FixedClock(), InMemoryEvents())
        task = enqueue(TaskRequest("export", ["x"], owner="ann"))
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), "0001_initial")
            connection.commit()
        assert {"is_unique", "unique_key"}.isdisjoint(c["name"] for c in inspect(engine).get_columns("rqledger_tasks"))
        assert upgrade(engine) == ("0001_initial", head_revision())
        with uow:
            assert uow.tasks.get(task.id).status is TaskStatus.QUEUED
    finally:
        engine.dispose()


def test_a_key_refused_inside_an_apps_transaction_leaves_that_transaction_usable(engine):
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        holder = uow.tasks.add(Task(name="export", owner="ann", unique=True))
        uow.commit()
    with Session(engine) as session:
        joined = JoinedUnitOfWork(session)
        with joined:
            with pytest.raises(DuplicateUniqueTask, match=f"task {holder.id} is already queued or running"):
                joined.tasks.add(Task(name="export", owner="ann", unique=True))  # no read first: the index refuses
            other = joined.tasks.add(Task(name="export", owner="bob", unique=True))
        assert session.execute(text("SELECT 1")).scalar() == 1  # PostgreSQL has not aborted the app's transaction
        session.commit()
    with uow:
        assert uow.tasks.get(other.id).owner == "bob"
