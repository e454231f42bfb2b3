"""Marshmallow fields stricter than the defaults: what a JSON API should accept, and nothing else."""

from __future__ import annotations

import numbers
from datetime import datetime, timezone

from marshmallow import ValidationError, fields, validate

# Databases refuse NUL in text columns (PostgreSQL) and the error would surface as a 500; refuse it here.
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="must not contain NUL (\\u0000) characters")


def Text(max_length: int, min_length: int = 0, **kwargs) -> fields.String:
    """A string of bounded length without NUL characters."""
    return fields.String(validate=[validate.Length(min=min_length, max=max_length), NO_NUL], **kwargs)


def integral(value):
    """5.0 as 5, as JSON Schema counts it an integer (JSON has one kind of number); anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class WholeNumber(fields.Integer):
    """A JSON integer: 5 and 5.0 (an integer to JSON Schema) yes; 5.5, "5" and true no."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(integral(value), attr, data, **kwargs)


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


# no NUL, and no space at either end (application/tasks.owner_text: MariaDB compares 'ann' and 'ann ' as equal)
OWNER_PATTERN = r"^[^\x00\s]([^\x00]*[^\x00\s])?$"


class Owner(fields.Raw):
    """Who a task is for: a string of 1 to 200 characters, or an integer (a user id), stored as its string."""

    def __init__(self, **kwargs):
        options = [{"type": "string", "minLength": 1, "maxLength": 200, "pattern": OWNER_PATTERN},
                   {"type": "integer"}]
        if kwargs.get("allow_none"):
            options.append({"type": "null"})
        kwargs.setdefault("metadata", {})["oneOf"] = options
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = integral(value)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not 1 <= len(value) <= 200 or "\x00" in value:
            raise ValidationError("must be a string of 1 to 200 characters (no NUL) or an integer")
        return value


class Moment(fields.AwareDateTime):
    """An ISO 8601 date and time to filter by (a date alone is its midnight; without an offset, UTC).

    Held within 1970..9000: no task's time lies outside, and beyond them a database cannot store every year (a
    time late in 9999 west of UTC has no UTC at all), so a far bound means "from the start" or "to the end".
    """

    EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
    LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)
    default_error_messages = {"invalid": "is not an ISO 8601 date and time: write e.g. 2026-12-05T14:30 (UTC) or "
                                         "2026-12-05T14:30:00+09:00"}

    def __init__(self, **kwargs):
        super().__init__(format="iso", default_timezone=timezone.utc, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return min(max(super()._deserialize(value, attr, data, **kwargs), self.EARLIEST), self.LATEST)
