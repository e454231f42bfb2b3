"""The one compare-and-set write behind every status change: UPDATE ... WHERE id AND <guard> = <as read>."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from sqlalchemy import Column, Table, select, update

from rqledger.adapters.sqlalchemy.values import refuse_unstorable
from rqledger.domain.errors import ConcurrentUpdate

if TYPE_CHECKING:
    from rqledger.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork


def guarded_update(uow: "SqlAlchemyUnitOfWork", table: Table, entity, *, kind: str, values: dict,
                   guard: Column, read, json_fields: tuple[str, ...], status_type: type,
                   not_found: Callable[[int], Exception]) -> None:
    """Writes `values` to the row of `entity` if its `guard` column still holds `read` (None: unguarded).

    No row matched: raises `not_found(id)` when the row is gone, else ConcurrentUpdate naming the
    status another writer left; a value JSON cannot hold is refused before anything is written.
    """
    statement = update(table).where(table.c.id == entity.id)
    if read is not None:
        statement = statement.where(guard == read)
    try:
        result = uow.execute(statement, values)
    except (TypeError, ValueError) as exc:
        refuse_unstorable(kind, entity.id, values, json_fields, exc)
    if result.rowcount != 1:
        current = uow.execute(select(table.c.status).where(table.c.id == entity.id)).scalar()
        if current is None:
            raise not_found(entity.id)
        raise ConcurrentUpdate(kind, entity.id, status_type(current), entity.status)
