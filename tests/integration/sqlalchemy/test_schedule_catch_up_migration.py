"""Revision 0004_schedule_catch_up on SQLite, PostgreSQL and MariaDB: schedules and runs written at 0003 survive
the upgrade, every schedule takes catch_up `latest`, and a `missed` run fits the status column as it is."""

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import text

from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_ledger_engine, upgrade
from rqledger.adapters.sqlalchemy.migrate import alembic_config
from rqledger.domain.schedule import CatchUp, RunStatus

BEFORE = "0003_schedule_owner"
REVISION = "0004_schedule_catch_up"
AT = datetime(2026, 12, 10, 3, 0, tzinfo=timezone.utc)


def insert_0003_rows(url: str) -> None:
    schedule = {"key_hash": "k" * 64, "name": "report", "description": "", "args": '["daily"]', "kwargs": "{}",
                "owner": "ann", "queue": "default", "status": "running", "cron": "0 3 * * *", "timezone": "UTC",
                "runs_started": 1, "version": 2}
    run = {"schedule_id": 1, "scheduled_at": "2026-12-09 03:00:00", "started_at": "2026-12-09 03:00:01",
           "ended_at": "2026-12-09 03:00:02", "status": "finished", "progress": 100, "log": ""}
    engine = create_ledger_engine(url)
    try:
        with engine.begin() as connection:
            for table, row in (("rqledger_scheduled_tasks", schedule), ("rqledger_scheduled_task_runs", run)):
                connection.execute(text(f"INSERT INTO {table} ({', '.join(row)}) VALUES "
                                        f"({', '.join(':' + c for c in row)})"), row)
    finally:
        engine.dispose()


def test_rows_from_0003_are_kept_with_catch_up_latest_and_a_missed_run_can_then_be_stored(empty_url):
    assert upgrade(empty_url, revision=BEFORE) == (None, BEFORE)
    insert_0003_rows(empty_url)
    assert upgrade(empty_url, revision=REVISION) == (BEFORE, REVISION)
    engine = create_ledger_engine(empty_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT id, name, owner, runs_started, catch_up, log "
                                             "FROM rqledger_scheduled_tasks")).all()
            run_count = connection.execute(text("SELECT COUNT(*) FROM rqledger_scheduled_task_runs")).scalar()
        assert [tuple(row) for row in stored] == [(1, "report", "ann", 1, "latest", None)]
        assert run_count == 1
        upgrade(engine)  # the repositories below read the newest schema
        uow = SqlAlchemyUnitOfWork(engine)
        with uow:
            schedule = uow.schedules.get(1)
            assert (schedule.catch_up, schedule.log) == (CatchUp.LATEST, "")
            run = uow.schedules.add_run(schedule.missed_run(AT, AT, "missed"))
            schedule.count_missed(run)
            uow.schedules.save(schedule)
            uow.commit()
        with uow:
            statuses = [r.status for r in uow.schedules.list_runs(1).items]
            assert statuses == [RunStatus.MISSED, RunStatus.FINISHED]
            assert uow.schedules.get(1).last_run.status is RunStatus.MISSED
    finally:
        engine.dispose()


def test_the_downgrade_to_0003_keeps_the_schedules_and_drops_the_missed_runs(empty_url):
    upgrade(empty_url, revision=BEFORE)
    insert_0003_rows(empty_url)
    upgrade(empty_url)  # the repositories read the newest schema; the downgrade passes through this revision's
    engine = create_ledger_engine(empty_url)
    try:
        uow = SqlAlchemyUnitOfWork(engine)
        with uow:
            schedule = uow.schedules.get(1)
            schedule.count_missed(uow.schedules.add_run(schedule.missed_run(AT, AT, "missed")))
            uow.schedules.save(schedule)
            uow.commit()
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), BEFORE)
            connection.commit()
        with engine.connect() as connection:
            runs = connection.execute(text("SELECT status FROM rqledger_scheduled_task_runs")).scalars().all()
            last = connection.execute(text("SELECT last_run_status FROM rqledger_scheduled_tasks")).scalar()
        assert runs == ["finished"] and last is None
        assert upgrade(engine, revision=REVISION) == (BEFORE, REVISION)
    finally:
        engine.dispose()
