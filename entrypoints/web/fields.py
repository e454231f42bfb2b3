"""Marshmallow fields stricter than the defaults: what a JSON API should accept, and nothing else."""

from __future__ import annotations

import numbers

from marshmallow import ValidationError, fields, validate

# Databases refuse NUL in text columns (PostgreSQL) and the error would surface as a 500; refuse it here.
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="must not contain NUL (\\u0000) characters")


def Text(max_length: int, min_length: int = 0, **kwargs) -> fields.String:
    """A string of bounded length without NUL characters."""
    return fields.String(validate=[validate.Length(min=min_length, max=max_length), NO_NUL], **kwargs)


class WholeNumber(fields.Integer):
    """A JSON integer: 5 yes; 5.0, "5" and true no."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Seconds(fields.Raw):
    """Seconds to wait: one number >= 0, or a list of them (one per retry), as RQ's Retry takes."""

    MAX_ITEMS = 100

    def __init__(self, maximum: float, **kwargs):
        self.maximum = maximum
        number = {"type": "number", "minimum": 0, "maximum": maximum}
        kwargs.setdefault("metadata", {})["oneOf"] = [
            number, {"type": "array", "items": number, "maxItems": self.MAX_ITEMS}]
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and len(value) > self.MAX_ITEMS:
            raise ValidationError(f"at most {self.MAX_ITEMS} intervals")
        for item in values:
            if isinstance(item, bool) or not isinstance(item, numbers.Real) or not 0 <= item <= self.maximum:
                raise ValidationError(f"seconds must be a number from 0 to {self.maximum:g}, or a list of them")
        return value
