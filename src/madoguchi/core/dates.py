"""The dates madoguchi accepts from outside: 1900-01-01 … 2199-12-31.

Every date typed into a page, passed to the API or read from a query string lies in this range
or is refused with a 4xx: a day view for 0001-01-01 would ask for the day before it, and
9999-12-31 + one day overflows — a 500 instead of an answer. Nobody alive was born before 1900,
and no booking window reaches 2200.
"""

from __future__ import annotations

import datetime as dt

EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)


def in_range(day: dt.date) -> bool:
    """True when `day` lies in EARLIEST_DATE … LATEST_DATE."""
    return EARLIEST_DATE <= day <= LATEST_DATE


def parse_day(text: str) -> dt.date | None:
    """`YYYY-MM-DD` in range → the date; anything else (malformed, impossible, out of range) →
    None."""
    try:
        day = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return day if in_range(day) else None
