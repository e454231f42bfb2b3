"""Deleting a parent deletes its children: at the database (ON DELETE CASCADE) and in the ORM."""

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from rqledger.adapters.sqlalchemy.tables import ScheduleRow, scheduled_task_runs, task_attempts
from rqledger.domain.schedule import ScheduledTaskInstance
from tests.contract.builders import NOW, a_schedule, a_task, later


def schedule_with_runs(uow, runs: int = 3, name: str = "report") -> int:
    with uow:
        schedule = uow.schedules.add(a_schedule(name))
        for n in range(runs):
            uow.schedules.add_run(ScheduledTaskInstance(schedule.id, later(n), later(n)))
        uow.commit()
    return schedule.id


def count(engine, table, **where) -> int:
    statement = select(func.count()).select_from(table)
    for column, value in where.items():
        statement = statement.where(table.c[column] == value)
    with engine.connect() as connection:
        return connection.execute(statement).scalar()


def test_a_raw_sql_delete_of_a_parent_removes_its_runs(uow, engine):
    doomed, kept = schedule_with_runs(uow), schedule_with_runs(uow, runs=1, name="kept")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM rqledger_scheduled_tasks WHERE id = :id"), {"id": doomed})
    assert count(engine, scheduled_task_runs, schedule_id=doomed) == 0
    assert count(engine, scheduled_task_runs, schedule_id=kept) == 1


def test_deleting_a_parent_in_the_orm_removes_its_runs(uow, engine):
    schedule_id = schedule_with_runs(uow)
    with Session(engine) as session:
        session.delete(session.get(ScheduleRow, schedule_id))
        session.commit()
    assert count(engine, scheduled_task_runs, schedule_id=schedule_id) == 0


def test_an_orphaned_run_is_deleted_by_the_orm(uow, engine):
    schedule_id = schedule_with_runs(uow, runs=2)
    with Session(engine) as session:
        parent = session.get(ScheduleRow, schedule_id)
        parent.runs.remove(parent.runs[0])
        session.commit()
    assert count(engine, scheduled_task_runs, schedule_id=schedule_id) == 1


def test_a_raw_sql_delete_of_a_task_removes_its_attempts(uow, engine):
    with uow:
        task = uow.tasks.add(a_task())
        task.start("w", NOW)
        uow.tasks.save(task)
        uow.commit()
    assert count(engine, task_attempts, task_id=task.id) == 1
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM rqledger_tasks WHERE id = :id"), {"id": task.id})
    assert count(engine, task_attempts, task_id=task.id) == 0
