"""What only the memory unit of work needs to say; tests/contract/ holds what every unit of work must do
(copies in and out, commit or nothing, compare-and-set), run on memory and on every SQL database."""

import pytest

from adapters.memory import InMemoryUnitOfWork


def test_the_unit_of_work_is_used_inside_with():
    with pytest.raises(RuntimeError, match="inside `with uow:`"):
        InMemoryUnitOfWork().tasks.get(1)
