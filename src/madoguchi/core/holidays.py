"""National holidays behind one adapter, so the library can change without touching callers.

The data comes from `jpholiday`, which its maintainers keep in step with the Cabinet Office's
list. The year-end closure and local holidays are not national holidays: offices/ handles them.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import jpholiday


@lru_cache(maxsize=64)
def _holidays_of(year: int) -> dict[dt.date, str]:
    return {day: str(name) for day, name in jpholiday.year_holidays(year)}


def national_holiday_name(day: dt.date) -> str | None:
    """The name of the national holiday on `day` (振替休日 included), or None.

    A year's holidays are computed once per process: the library recomputes them on every
    call, and calendars ask about hundreds of days at a time.
    """
    return _holidays_of(day.year).get(day)
