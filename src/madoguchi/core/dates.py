"""Dates in one place: the range madoguchi accepts from outside, and calendar arithmetic.

The range is 1900-01-01 … 2199-12-31.

Every date typed into a page, passed to the API or read from a query string lies in this range
or is refused with a 4xx: a day view for 0001-01-01 would ask for the day before it, and
9999-12-31 + one day overflows — a 500 instead of an answer. Nobody alive was born before 1900,
and no booking window reaches 2200.
"""

from __future__ import annotations

import calendar
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


# --- calendar arithmetic: months and weeks --------------------------------------------------
# Two different "plus N months" exist and are named apart: `add_months` keeps the day of the
# month (clamped to the month's end: a deadline N months after a date), `month_start` gives the
# 1st of a later month (a forecast's monthly bins).


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus `months` calendar months, clamped to the month end (31 Jan + 1 → 28/29 Feb)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def month_start(day: dt.date, months: int = 0) -> dt.date:
    """The 1st of the month `months` after `day`'s month (0: `day`'s own month)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, 1)


def monday_of(day: dt.date) -> dt.date:
    """The Monday of `day`'s week (weeks run Monday to Sunday, as application counts do)."""
    return day - dt.timedelta(days=day.weekday())


# --- 和暦: the Japanese era of a year, as birth-date selects label it --------------------------
# Five public facts (the first day of each era), kept here rather than in a dependency; a new
# era is one more row. Years before 明治 never reach a birth-date select (EARLIEST_DATE).

ERAS: tuple[tuple[dt.date, str], ...] = (
    (dt.date(1868, 10, 23), "明治"),
    (dt.date(1912, 7, 30), "大正"),
    (dt.date(1926, 12, 25), "昭和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(2019, 5, 1), "令和"),
)


def _era_year(first_day: dt.date, name: str, year: int) -> str:
    number = year - first_day.year + 1
    return f"{name}{'元' if number == 1 else number}年"


def wareki_years(year: int) -> list[str]:
    """The era years a Western year falls in, earliest first: 1985 → ["昭和60年"];
    1989 → ["昭和64年", "平成元年"] (the era changed on 8 January)."""
    found = []
    for index, (first_day, name) in enumerate(ERAS):
        ends = ERAS[index + 1][0] if index + 1 < len(ERAS) else dt.date.max
        if first_day.year <= year and dt.date(year, 1, 1) < ends:
            found.append(_era_year(first_day, name, year))
    return found


def year_with_wareki(year: int, *, pattern: str = "%(year)s年（%(eras)s）") -> str:
    """「1985年（昭和60年）」, 「1989年（昭和64年・平成元年）」: a year as a select shows it
    (`pattern` is the page language's form of it, the era names stay Japanese)."""
    eras = wareki_years(year)
    return pattern % {"year": year, "eras": "・".join(eras)} if eras else str(year)
