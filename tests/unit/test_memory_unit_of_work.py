"""What only the memory unit of work needs to say; tests/contract/ holds what every unit of work must do
(copies in and out, commit or nothing, compare-and-set), run on memory and on every SQL database."""

import pytest

from rqledger.adapters.memory import InMemoryUnitOfWork


def test_the_unit_of_work_is_used_inside_with():
    with pytest.raises(RuntimeError, match="inside `with uow:`"):
        InMemoryUnitOfWork().tasks.get(1)


def test_a_unique_key_taken_between_the_write_and_the_commit_is_refused_at_the_commit_with_nothing_applied():
    from rqledger.adapters.memory import InMemoryStore
    from rqledger.domain.errors import DuplicateUniqueTask
    from rqledger.domain.task import Task

    store = InMemoryStore()
    first, second = InMemoryUnitOfWork(store), InMemoryUnitOfWork(store)
    with first, second:  # both write before either commits, as two processes would
        winner = first.tasks.add(Task(name="export", owner="ann", unique=True))
        second.tasks.add(Task(name="other"))
        second.tasks.add(Task(name="export", owner="ann", unique=True))
        first.commit()
        with pytest.raises(DuplicateUniqueTask, match=f"task {winner.id} is already queued or running") as refused:
            second.commit()
    assert refused.value.index == 1  # the second task this unit of work wrote
    assert list(store.tasks) == [winner.id]
