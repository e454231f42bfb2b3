"""JSON in Text columns: non-ASCII and large values round-trip, in-place changes are saved, bad values refused."""

import math

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from rqledger.adapters.sqlalchemy.tables import TaskRow
from rqledger.domain.task import Task, TaskStatus
from tests.contract.builders import NOW, a_task

KOREAN = "한글데이터"


def finished(uow, result) -> int:
    with uow:
        task = uow.tasks.add(a_task())
        task.start("w", NOW)
        task.finish(result, NOW)
        uow.tasks.save(task)
        uow.commit()
    return task.id


def test_korean_text_round_trips_exactly(uow):
    task_id = finished(uow, {"text": KOREAN, "nested": [{"이름": KOREAN}], "emoji": "😀"})
    with uow:
        task = uow.tasks.get(task_id)
    assert task.result == {"text": KOREAN, "nested": [{"이름": KOREAN}], "emoji": "😀"}
    assert task.kwargs["user"] == KOREAN


def test_a_result_over_one_mebibyte_round_trips(uow):
    big = {"blob": "x" * (1024 * 1024), "korean": KOREAN * 20_000, "numbers": list(range(10_000))}
    task_id = finished(uow, big)
    with uow:
        assert uow.tasks.get(task_id).result == big


def test_an_in_place_change_to_a_mapped_rows_result_is_saved(uow, engine):
    task_id = finished(uow, {"posts": 3})
    with Session(engine) as session:
        row = session.get(TaskRow, task_id)
        row.result["posts"] = 4  # no assignment to row.result: mutation tracking must notice
        row.result["note"] = KOREAN
        row.args.append("appended")
        session.commit()
    with Session(engine) as session:
        row = session.get(TaskRow, task_id)
        assert row.result == {"posts": 4, "note": KOREAN}
        assert row.args[-1] == "appended"
    with uow:
        assert uow.tasks.get(task_id).result == {"posts": 4, "note": KOREAN}


@pytest.mark.parametrize("value, error", [({1, 2}, TypeError), (math.nan, ValueError), (math.inf, ValueError)])
def test_a_result_json_cannot_hold_is_refused_and_nothing_is_stored(uow, value, error):
    with uow:
        task = uow.tasks.add(a_task())
        task.start("w", NOW)
        uow.tasks.save(task)
        uow.commit()
    with uow:
        task = uow.tasks.get(task.id)
        task.finish({"value": value}, NOW)
        with pytest.raises(error, match=f"task {task.id}: 'result' cannot be stored as JSON"):
            uow.tasks.save(task)
        uow.commit()
    with uow:
        stored = uow.tasks.get(task.id)
    assert stored.status is TaskStatus.RUNNING and stored.result is None and len(stored.history) == 1


def test_a_new_task_with_arguments_json_cannot_hold_is_refused(uow):
    with uow:
        with pytest.raises(TypeError, match="'kwargs' cannot be stored as JSON"):
            uow.tasks.add(Task(name="t", kwargs={"when": object()}))
        uow.commit()
    with uow, Session(uow.engine) as session:
        assert session.scalars(select(TaskRow)).all() == []


def test_a_batch_with_one_task_json_cannot_hold_is_refused_whole_naming_the_field(uow):
    with uow:
        batch = [Task(name="fine"), Task(name="t", args=[float("nan")]), Task(name="fine")]
        with pytest.raises(ValueError, match="'args' cannot be stored as JSON"):
            uow.tasks.add_many(batch)
        uow.commit()
    with uow, Session(uow.engine) as session:
        assert session.scalars(select(TaskRow)).all() == []


def test_a_time_without_a_zone_is_refused(uow):
    with uow, pytest.raises(ValueError, match="aware datetime"):
        uow.tasks.add(Task(name="t", created_at=NOW.replace(tzinfo=None)))
