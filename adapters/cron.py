"""Cron arithmetic on croniter, in an IANA time zone."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from domain.errors import InvalidSchedule


class CroniterCalendar:
    def validate(self, expression: str, timezone_name: str) -> None:
        _zone(timezone_name)
        if not isinstance(expression, str) or len(expression.split()) != 5 or not croniter.is_valid(expression):
            raise InvalidSchedule(
                f"cron {expression!r} is not a valid 5-field expression (minute hour day-of-month month day-of-week),"
                " e.g. '*/5 * * * *'", field="cron")

    def next_after(self, expression: str, timezone_name: str, after: datetime) -> datetime:
        local = after.astimezone(_zone(timezone_name))
        return croniter(expression, local).get_next(datetime).astimezone(timezone.utc)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(f"time zone {name!r} is not an IANA time zone name like 'Europe/Paris'",
                              field="timezone") from None
