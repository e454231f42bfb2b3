"""Failures grouped by what went wrong: the same task type failing with the same kind of error is one group.

A group's fingerprint is (task name, exception type, the error message normalised): quoted strings, hex ids,
UUIDs and numbers become placeholders, so "user 42 not found" and "user 7 not found" are one failure, seen
twice. The error is the last attempt's (`Type: message` then the traceback); a task that failed without an
attempt's error (refused before it ran) is read from its log's last line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from rqledger.domain.task import Task

TRACEBACK = "\nTraceback (most recent call last):"
MAX_MESSAGE = 300

_STAMP = re.compile(r"^\[[^\]]*\]\s*")  # a log line's "[2026-12-05T07:55:52+00:00] "
# "ValueError: ...", "app.errors.QuotaExceeded: ..." (exception classes are capitalised; "http://..." is no type)
_TYPE = re.compile(r"^((?:[A-Za-z_]\w*\.)*[A-Z]\w*):(?:\s(.*))?$", re.DOTALL)
_PLACEHOLDERS = [
    (re.compile(r"(?<!\w)(?:'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")(?!\w)"), "<str>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\b0[xX][0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"(?<![A-Za-z\d.])\d+(?:[.,]\d+)*"), "<n>"),  # "sha256", "utf8" stay; "42ms", "id_42" do not
]


@dataclass(frozen=True)
class Fingerprint:
    """What makes two failures the same failure."""

    name: str
    error_type: str  # "" when the error names no exception type ("timed out after 30 s")
    message: str  # normalised


@dataclass
class FailureGroup:
    """Failed tasks that share a fingerprint; `tasks` newest first (the order they were given in)."""

    fingerprint: Fingerprint
    tasks: list[Task] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.tasks)

    @property
    def sample(self) -> Task:
        return self.tasks[0]

    @property
    def first_seen(self) -> datetime | None:
        return min((m for m in map(_seen, self.tasks) if m is not None), default=None)

    @property
    def last_seen(self) -> datetime | None:
        return max((m for m in map(_seen, self.tasks) if m is not None), default=None)

    @property
    def owners(self) -> int:
        """How many owners it touched (tasks without an owner are nobody's)."""
        return len({t.owner for t in self.tasks if t.owner is not None})

    @property
    def ids(self) -> list[int]:
        return [t.id for t in self.tasks]


def error_of(task: Task) -> str:
    """The text of what went wrong: the last attempt's error, else the log's last non-empty line."""
    if task.history and task.history[-1].error:
        return task.history[-1].error
    lines = [line for line in (task.log or "").splitlines() if line.strip()]
    return _STAMP.sub("", lines[-1]).strip() if lines else ""


def normalise(message: str) -> str:
    """The message with the parts that vary between occurrences replaced by placeholders."""
    text = " ".join(message.split())
    for pattern, placeholder in _PLACEHOLDERS:
        text = pattern.sub(placeholder, text)
    return text[:MAX_MESSAGE]


def fingerprint(task: Task) -> Fingerprint:
    """The task's failure reduced to what it shares with others like it."""
    error = error_of(task).split(TRACEBACK, 1)[0].strip()
    found = _TYPE.match(error)
    error_type, message = (found.group(1), found.group(2) or "") if found else ("", error)
    return Fingerprint(task.name, error_type, normalise(message))


def group_failures(tasks: list[Task]) -> list[FailureGroup]:
    """The tasks grouped by fingerprint; the biggest group first, then the most recently seen."""
    groups: dict[Fingerprint, FailureGroup] = {}
    for task in tasks:
        key = fingerprint(task)
        groups.setdefault(key, FailureGroup(key)).tasks.append(task)
    return sorted(groups.values(), key=lambda g: (-g.count, -(g.last_seen.timestamp() if g.last_seen else 0)))


def _seen(task: Task) -> datetime | None:
    return task.ended_at or task.created_at
