"""Column types that behave the same on SQLite, PostgreSQL and MySQL/MariaDB.

JSON lives in a Text column (not the databases' own JSON types) so that one
type works everywhere; on MySQL/MariaDB that Text is LONGTEXT, since their
TEXT holds only 64 KiB and a task's result may be larger.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from sqlalchemy import DateTime, Text
from sqlalchemy.dialects.mysql import DATETIME as MYSQL_DATETIME
from sqlalchemy.dialects.mysql import LONGTEXT
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.types import TypeDecorator

_MYSQL = ("mysql", "mariadb")

# What some database cannot hold in a text column: NUL (PostgreSQL refuses it) and lone surrogates (no UTF-8
# encoding exists for them, so every driver refuses them). Python strings may hold both (a task's message or
# result can); a JSON body can hold NUL too.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(match: re.Match) -> str:
    return f"\\x{ord(match.group()):02x}" if match.group() == "\x00" else f"\\u{ord(match.group()):04x}"


def storable_text(value: str) -> str:
    """Free text as every database can hold it: NUL and lone surrogates are written as Python's repr writes them
    (`\\x00`, `\\ud800`), the same on every database; any other text is left exactly as it is.

    For people's text (logs, errors, descriptions): readable, not reversible. JSON values need none of this
    (`dump_json` keeps them losslessly), so arguments and results come back exactly as given.
    """
    return _UNSTORABLE.sub(_escaped, value) if _UNSTORABLE.search(value) else value


class LongTextType(TypeDecorator):
    """Free text that may be long (logs with tracebacks): TEXT, or LONGTEXT on MySQL/MariaDB (see storable_text)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in _MYSQL:
            return LONGTEXT()
        return Text()

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return storable_text(value)


LongText = LongTextType()


def dump_json(value) -> str:
    """The JSON text of a value; TypeError/ValueError for what JSON cannot hold (NaN and Infinity too).

    Non-ASCII text is kept as it is, except in a value holding a lone surrogate (UTF-8 cannot encode one):
    that value is written all in ASCII, the surrogate as JSON's `\\ud800` escape, so it round-trips exactly.
    (NUL needs nothing: JSON always escapes it, `\\u0000`.)
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    if not text.isascii() and _SURROGATE.search(text):
        return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text


class JsonText(LongTextType):
    """A JSON value stored as (long) text; SQL NULL for None. Non-ASCII text is stored as it is (UTF-8)."""

    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return dump_json(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return json.loads(value)


# With mutation tracking: on a mapped row, `row.result["k"] = v` (or `row.args.append(v)`)
# marks the attribute dirty so the change is flushed. Tracking covers the top level only.
JsonDict = MutableDict.as_mutable(JsonText())
JsonList = MutableList.as_mutable(JsonText())


class UtcDateTime(TypeDecorator):
    """An aware datetime, stored as naive UTC with microseconds; always read back aware, in UTC.

    Naive UTC everywhere (rather than TIMESTAMP WITH TIME ZONE on PostgreSQL only)
    keeps the stored values and their comparisons identical on every database,
    which the unique (schedule, scheduled_at) constraint relies on.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in _MYSQL:
            return MYSQL_DATETIME(fsp=6)
        return DateTime(timezone=False)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"expected an aware datetime (with a UTC offset), got {value!r}")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)
