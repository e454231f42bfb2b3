"""The AlertRepository port on SQL: alerts and their deliveries, every write a compare-and-set on `version`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from sqlalchemy import insert, or_, and_, select, update

from rqledger.adapters.sqlalchemy.conversion import alert_from_row, alert_values, delivery_from_row, delivery_values
from rqledger.adapters.sqlalchemy.errors import WriteRefused
from rqledger.adapters.sqlalchemy.tables import alert_deliveries as deliveries
from rqledger.adapters.sqlalchemy.tables import alerts
from rqledger.application.ports import AlertQuery, Page
from rqledger.domain.alert import Alert, AlertStatus, Delivery, DeliveryStatus
from rqledger.domain.errors import AlertNotFound, ConcurrentUpdate, DuplicateAlert

if TYPE_CHECKING:
    from rqledger.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork


class SqlAlchemyAlertRepository:
    def __init__(self, uow: "SqlAlchemyUnitOfWork"):
        self._uow = uow

    def add(self, alert: Alert) -> Alert:
        try:
            with self._uow.savepoint():
                result = self._uow.execute(insert(alerts), alert_values(alert))
        except WriteRefused:  # the unique open_key: another scheduler opened it a moment ago
            raise DuplicateAlert(alert.key) from None
        alert.id = result.inserted_primary_key[0]
        self._read(("alert", alert.id), alert.version)
        return alert

    def get(self, alert_id: int) -> Alert:
        row = self._uow.execute(select(alerts).where(alerts.c.id == alert_id)).first()
        if row is None:
            raise AlertNotFound(alert_id)
        return self._alert(row)

    def save(self, alert: Alert) -> None:
        self._guarded(alerts, alert, ("alert", alert.id), alert_values(alert), AlertNotFound)

    def open_alerts(self) -> list[Alert]:
        rows = self._uow.execute(select(alerts).where(alerts.c.status == AlertStatus.OPEN.value)
                                 .order_by(alerts.c.id))
        return [self._alert(row) for row in rows]

    def list(self, query: AlertQuery) -> Page:
        statement = select(alerts)
        if query.statuses:
            statement = statement.where(alerts.c.status.in_(sorted(s.value for s in query.statuses)))
        if query.kind is not None:
            statement = statement.where(alerts.c.kind == query.kind.value)
        if query.before_id is not None:
            statement = statement.where(alerts.c.id < query.before_id)
        rows = self._uow.execute(statement.order_by(alerts.c.id.desc()).limit(query.limit + 1)).all()
        items = [self._alert(row) for row in rows[:query.limit]]
        return Page(items, items[-1].id if len(rows) > query.limit and items else None)

    def add_delivery(self, delivery: Delivery) -> Delivery:
        result = self._uow.execute(insert(deliveries), delivery_values(delivery))
        delivery.id = result.inserted_primary_key[0]
        self._read(("delivery", delivery.id), delivery.version)
        return delivery

    def save_delivery(self, delivery: Delivery) -> None:
        self._guarded(deliveries, delivery, ("delivery", delivery.id), delivery_values(delivery),
                      lambda i: ConcurrentUpdate("delivery", i, "deleted", delivery.status))

    def track_delivery(self, delivery: Delivery) -> None:
        self._read(("delivery", delivery.id), delivery.version)

    def due_deliveries(self, now, limit: int = 100) -> list[Delivery]:
        rows = self._uow.execute(select(deliveries).where(or_(
            and_(deliveries.c.status == DeliveryStatus.PENDING.value, deliveries.c.next_attempt_at <= now),
            and_(deliveries.c.status == DeliveryStatus.SENDING.value, deliveries.c.claimed_until <= now),
        )).order_by(deliveries.c.next_attempt_at, deliveries.c.id).limit(limit))
        return [self._delivery(row) for row in rows]

    def deliveries_of(self, alert_ids: Sequence[int]) -> dict[int, list[Delivery]]:
        found: dict[int, list[Delivery]] = {alert_id: [] for alert_id in alert_ids}
        if alert_ids:
            rows = self._uow.execute(select(deliveries).where(deliveries.c.alert_id.in_(list(alert_ids)))
                                     .order_by(deliveries.c.id))
            for row in rows:
                found[row.alert_id].append(self._delivery(row))
        return found

    # -- versions read in this transaction ---------------------------------------

    def _read(self, key: tuple, version: int) -> None:
        self._uow.transaction().versions[key] = version

    def _alert(self, row) -> Alert:
        self._uow.transaction().versions.setdefault(("alert", row.id), row.version)
        return alert_from_row(row)

    def _delivery(self, row) -> Delivery:
        self._uow.transaction().versions.setdefault(("delivery", row.id), row.version)
        return delivery_from_row(row)

    def _guarded(self, table, entity, key: tuple, values: dict, not_found) -> None:
        versions = self._uow.transaction().versions
        statement = update(table).where(table.c.id == entity.id)
        if key in versions:
            statement = statement.where(table.c.version == versions[key])
        result = self._uow.execute(statement, values)
        if result.rowcount != 1:
            status = self._uow.execute(select(table.c.status).where(table.c.id == entity.id)).scalar()
            if status is None:
                raise not_found(entity.id)
            raise ConcurrentUpdate(key[0], entity.id, status, entity.status)
        versions[key] = entity.version
