"""Naming the field of an entity that cannot be stored, instead of a bare JSON error."""

from __future__ import annotations

from adapters.sqlalchemy.types import dump_json


def refuse_unstorable(entity: str, entity_id, values: dict, json_fields: tuple[str, ...], error: Exception):
    """Raises a TypeError/ValueError naming the first field of `values` that JSON cannot hold (else `error`'s kind)."""
    for name in json_fields:
        try:
            dump_json(values.get(name))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{entity} {entity_id}: '{name}' cannot be stored as JSON: {exc}") from None
    raise type(error)(f"{entity} {entity_id} cannot be stored: {error}") from None
