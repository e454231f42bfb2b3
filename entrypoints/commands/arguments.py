"""How the commands read what a user typed: task arguments, statuses, ids and moments."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from enum import Enum

from rqledger.domain.errors import InvalidArguments


def parse_argument(text: str):
    """An ARG is JSON when it parses as JSON (3, true, [1], {"a": 1}, "quoted"), else the string itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_kwargs(text: str | None) -> dict:
    """--kwargs: a JSON object, or nothing."""
    if text is None:
        return {}
    try:
        kwargs = json.loads(text)
    except ValueError as exc:
        raise InvalidArguments(f"--kwargs is not valid JSON: {exc}") from None
    if not isinstance(kwargs, dict):
        raise InvalidArguments('--kwargs must be a JSON object, e.g. \'{"seconds": 3}\'')
    return kwargs


def split(values: tuple[str, ...]) -> set[str]:
    """Repeated and comma-separated values as one set: `--status a,b --status c`."""
    return {part.strip() for value in values for part in value.split(",") if part.strip()}


def statuses(values: tuple[str, ...], enum: type[Enum]) -> frozenset:
    """The members of a status Enum named in `values`; an unknown name is refused with the known ones."""
    known = {s.value: s for s in enum}
    names = split(values)
    wrong = sorted(names - set(known))
    if wrong:
        raise InvalidArguments(f"unknown status {', '.join(wrong)}; use one of {', '.join(known)}")
    return frozenset(known[n] for n in names)


def cursor(text: str | None) -> int | None:
    """--cursor: the `next_cursor` of the previous page (an id), as the API takes it."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise InvalidArguments(f"--cursor takes the next_cursor of a previous page (a number), not {text!r}") from None
    if value < 1:
        raise InvalidArguments("--cursor must be a positive number")
    return value


def moment(text: str) -> datetime:
    """--at: ISO-8601; without a UTC offset it is UTC (the times the CLI shows are UTC too)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArguments(f"--at must be an ISO-8601 time such as 2026-12-24T18:00:00+01:00, not {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
