"""Today's date, overridable with ``GUIHUA_TODAY`` so that runs and tests are reproducible."""

from __future__ import annotations

import datetime as dt
import os

from guihua.core.errors import InvalidInput


def today() -> dt.date:
    forced = os.environ.get("GUIHUA_TODAY")
    return parse_date(forced, "GUIHUA_TODAY") if forced else dt.date.today()


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
