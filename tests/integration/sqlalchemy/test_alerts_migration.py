"""Revision 0006_alerts on SQLite, PostgreSQL and MariaDB: schedules written at 0005 keep running with no dead-man
check and the default failing threshold; alerts and deliveries are stored with one open alert per key, and
claims are compare-and-sets; the downgrade gives 0005's schema back."""

from datetime import datetime, timezone

import pytest
from alembic import command
from sqlalchemy import inspect, text

from rqledger.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_ledger_engine, upgrade
from rqledger.adapters.sqlalchemy.migrate import alembic_config, head_revision
from rqledger.domain.alert import Alert, AlertKind, Condition, Delivery, DeliveryStatus
from rqledger.domain.errors import ConcurrentUpdate, DuplicateAlert

BEFORE = "0005_priority_and_pauses"
REVISION = "0006_alerts"
AT = datetime(2026, 12, 5, 3, 0, tzinfo=timezone.utc)
CONDITION = Condition("schedule.deadman:1", AlertKind.SCHEDULE_DEADMAN, "no run succeeded ünïcode", {"schedule_id": 1})


def test_the_head_is_this_revision():
    assert head_revision() == REVISION


def test_schedules_from_0005_keep_running_and_alerts_are_one_per_key(empty_url):
    upgrade(empty_url, revision=BEFORE)
    schedule = {"key_hash": "k" * 64, "name": "report", "description": "", "args": "[]", "kwargs": "{}",
                "queue": "default", "status": "running", "cron": "0 3 * * *", "timezone": "UTC", "runs_started": 0,
                "version": 0}
    engine = create_ledger_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"INSERT INTO rqledger_scheduled_tasks ({', '.join(schedule)}) VALUES "
                                    f"({', '.join(':' + c for c in schedule)})"), schedule)
        assert upgrade(engine, revision=REVISION) == (BEFORE, REVISION)
        uow = SqlAlchemyUnitOfWork(engine)
        with uow:
            stored = uow.schedules.get(1)
            assert (stored.expect_every, stored.alert_after_failures) == (None, 3)
            alert = uow.alerts.add(Alert.open(CONDITION, AT))
            uow.alerts.add_delivery(Delivery(alert.id, "https://hooks.example/a", AT, AT))
            uow.commit()
        with uow:
            with pytest.raises(DuplicateAlert):
                uow.alerts.add(Alert.open(CONDITION, AT))
            [open_one] = uow.alerts.open_alerts()
            assert open_one.summary == CONDITION.summary and open_one.subject == {"schedule_id": 1}
            open_one.resolve(AT)
            uow.alerts.save(open_one)
            uow.commit()
        with uow:
            uow.alerts.add(Alert.open(CONDITION, AT))  # resolved, the key is free for the next episode
            uow.commit()
        with uow:
            [due] = uow.alerts.due_deliveries(AT)
        with uow:  # one sender claims it...
            uow.alerts.track_delivery(due)
            due.claim(AT, 60)
            uow.alerts.save_delivery(due)
            uow.commit()
        with uow:  # ...another, holding the same read, cannot
            stale = Delivery(due.alert_id, due.target, AT, AT, id=due.id, version=0)
            uow.alerts.track_delivery(stale)
            stale.claim(AT, 60)
            with pytest.raises(ConcurrentUpdate):
                uow.alerts.save_delivery(stale)
        with uow:
            [delivery] = uow.alerts.deliveries_of([due.alert_id])[due.alert_id]
            assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENDING, 1)
            assert uow.alerts.due_deliveries(AT) == []
    finally:
        engine.dispose()


def test_the_downgrade_to_0005_drops_the_alerts(empty_url):
    upgrade(empty_url, revision=REVISION)
    engine = create_ledger_engine(empty_url)
    try:
        uow = SqlAlchemyUnitOfWork(engine)
        with uow:
            alert = uow.alerts.add(Alert.open(CONDITION, AT))
            uow.alerts.add_delivery(Delivery(alert.id, "https://hooks.example/a", AT, AT))
            uow.commit()
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), BEFORE)
            connection.commit()
        inspector = inspect(engine)
        assert not {"rqledger_alerts", "rqledger_alert_deliveries"} & set(inspector.get_table_names())
        assert "expect_every" not in {c["name"] for c in inspector.get_columns("rqledger_scheduled_tasks")}
        assert upgrade(engine, revision=REVISION) == (BEFORE, REVISION)
    finally:
        engine.dispose()
