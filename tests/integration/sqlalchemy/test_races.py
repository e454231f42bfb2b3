"""Writers racing on one row in real threads (each with its own connection): exactly one wins."""

import threading

import pytest

from rqledger.adapters.memory import FixedClock, InMemoryEvents
from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_ledger_engine
from rqledger.application.execution import TaskExecution
from rqledger.domain.errors import ConcurrentUpdate
from rqledger.domain.task import Task, TaskStatus
from tests.contract.builders import NOW, a_task

ROUNDS = 10


def race(*contenders):
    """Runs the contenders in threads; each reads, waits for the others, then writes. Returns their outcomes."""
    barrier = threading.Barrier(len(contenders))
    outcomes = [None] * len(contenders)

    def run(index, contender):
        try:
            outcomes[index] = contender(barrier)
        except ConcurrentUpdate as exc:
            outcomes[index] = exc
        except BaseException as exc:  # anything else fails the test below
            outcomes[index] = exc
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, ConcurrentUpdate):
            raise outcome
    return outcomes


def queued_tasks(uow, count) -> list[int]:
    with uow:
        ids = [uow.tasks.add(Task(name="t", created_at=NOW)).id for _ in range(count)]
        uow.commit()
    return ids


def transition(uow, task_id, verb):
    def contender(barrier):
        with uow:  # one uow object shared by the threads: each gets its own session
            task = uow.tasks.get(task_id)
            barrier.wait(timeout=30)
            verb(task)
            uow.tasks.save(task)
            uow.commit()
        return task.status
    return contender


def test_two_sessions_racing_to_start_the_same_queued_task_one_succeeds(uow):
    for task_id in queued_tasks(uow, ROUNDS):
        start = transition(uow, task_id, lambda task: task.start("worker", NOW))
        outcomes = race(start, start)
        assert sorted(map(type, outcomes), key=str) == sorted([TaskStatus, ConcurrentUpdate], key=str)
        with uow:
            task = uow.tasks.get(task_id)
        assert task.attempts == 1 and len(task.history) == 1


def test_a_worker_and_a_user_cancel_racing_cannot_both_win(uow):
    for task_id in queued_tasks(uow, ROUNDS):
        outcomes = race(transition(uow, task_id, lambda task: task.start("worker", NOW)),
                        transition(uow, task_id, lambda task: task.cancel(NOW)))
        winners = [o for o in outcomes if isinstance(o, TaskStatus)]
        assert len(winners) == 1
        loser = next(o for o in outcomes if isinstance(o, ConcurrentUpdate))
        assert loser.current == winners[0].value
        with uow:
            assert uow.tasks.get(task_id).status is winners[0]


def test_four_workers_starting_one_task_through_the_use_case_run_it_once(uow):
    execution = TaskExecution(uow, FixedClock(), InMemoryEvents())
    for task_id in queued_tasks(uow, ROUNDS):
        def start(barrier, name):
            barrier.wait(timeout=30)
            return execution.start(task_id, name)
        outcomes = race(*[lambda b, n=n: start(b, f"w{n}") for n in range(4)])
        started = [o for o in outcomes if isinstance(o, Task)]
        assert len(started) == 1  # the others found it running, or lost the compare-and-set
        with uow:
            assert uow.tasks.get(task_id).attempts == 1


@pytest.mark.parametrize("kind", ["sqlite"], indirect=True)
def test_processes_sharing_one_sqlite_file_write_without_locking_each_other_out(kind, ledger_databases):
    """Separate engines stand in for separate processes: each has its own connections and file locks."""
    url = ledger_databases.url(kind)
    ledger_databases.engine(kind)  # empty tables
    engines = [create_ledger_engine(url) for _ in range(4)]
    try:
        uows = [SqlAlchemyUnitOfWork(engine) for engine in engines]
        ids = queued_tasks(uows[0], 200)
        errors = []

        def work(uow, mine):
            execution = TaskExecution(uow, FixedClock(), InMemoryEvents())
            try:
                for task_id in mine:
                    execution.start(task_id, "w")
                    execution.record_progress(task_id, 1, 50)
                    execution.finish(task_id, 1, {"ok": True})
                    with uow:
                        uow.tasks.get(task_id)
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(uows[n], ids[n::4])) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        with uows[0]:
            assert all(uows[0].tasks.get(i).status is TaskStatus.FINISHED for i in ids)
    finally:
        for engine in engines:
            engine.dispose()
