"""Naming the field of an entity that cannot be stored, instead of a bare JSON error."""

from __future__ import annotations

from rqledger.adapters.sqlalchemy.types import dump_json


def refuse_unstorable(entity: str, entity_id, values: dict, json_fields: tuple[str, ...], error: Exception):
    """Raises a TypeError/ValueError naming the first field of `values` that JSON cannot hold (else `error`'s kind)."""
    for name in json_fields:
        try:
            dump_json(values.get(name))
        except (TypeError, ValueError) as exc:
            raise _kind(exc)(f"{entity} {entity_id}: '{name}' cannot be stored as JSON: {exc}") from None
    raise _kind(error)(f"{entity} {entity_id} cannot be stored: {error}") from None


def _kind(error: Exception) -> type[Exception]:
    # TypeError or ValueError itself: a subclass such as UnicodeEncodeError cannot be built from one message
    return TypeError if isinstance(error, TypeError) else ValueError
