"""The clock: moments in UTC, days in the scheme's time zone (spec section 3).

"Today" and every date the system assigns (the day a record was received, an
objection filed, a decision made) are days in the catalog's ``scheme.timezone``,
not on the machine's clock: a record accepted at 01:00 in Suzhou was accepted
on that day, whatever the server's zone. ``GUIHUA_TODAY=YYYY-MM-DD`` fixes the
day for reproducible runs and tests.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import cache
from zoneinfo import ZoneInfo

from guihua.core.catalog import DEFAULT_TIMEZONE
from guihua.core.errors import InvalidInput


def today(zone: str = DEFAULT_TIMEZONE, instant: dt.datetime | None = None) -> dt.date:
    """The day it is in ``zone`` (at ``instant``, default now), unless ``GUIHUA_TODAY`` fixes it."""
    forced = os.environ.get("GUIHUA_TODAY")
    if forced:
        return parse_date(forced, "GUIHUA_TODAY")
    return day_in(instant or now(), zone)


def day_in(instant: dt.datetime, zone: str = DEFAULT_TIMEZONE) -> dt.date:
    """The calendar day of a moment in ``zone`` (a naive moment is taken as UTC)."""
    aware = instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)
    return aware.astimezone(_zone(zone)).date()


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_date(value: str, what: str = "date") -> dt.date:
    """A YYYY-MM-DD date, or an error that says what to type."""
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{what} {value!r} is not a date: write it as YYYY-MM-DD") from None


def as_date(value: object) -> dt.date | None:
    """A date from what a driver returns (SQLite gives text, PostgreSQL a date)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
