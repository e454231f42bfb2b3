"""Cron arithmetic on croniter, in an IANA time zone."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from rqledger.domain.errors import InvalidSchedule


class CroniterCalendar:
    def validate(self, expression: str, timezone_name: str) -> None:
        _zone(timezone_name)
        if not isinstance(expression, str) or len(expression.split()) != 5 or not croniter.is_valid(expression):
            raise InvalidSchedule(
                f"cron {expression!r} is not a valid 5-field expression (minute hour day-of-month month day-of-week),"
                " e.g. '*/5 * * * *'", field="cron")
        self.next_after(expression, timezone_name, datetime.now(timezone.utc))  # one that never fires is refused

    def next_after(self, expression: str, timezone_name: str, after: datetime) -> datetime:
        local = after.astimezone(_zone(timezone_name))
        try:
            return croniter(expression, local).get_next(datetime).astimezone(timezone.utc)
        except CroniterError:  # well formed, but no date matches (February 30, April 31): it would never fire
            raise InvalidSchedule(f"cron {expression!r} never fires: no date matches its day-of-month, month and "
                                  f"day-of-week (e.g. February 30 or April 31)", field="cron") from None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(f"time zone {name!r} is not an IANA time zone name like 'Europe/Paris'",
                              field="timezone") from None
