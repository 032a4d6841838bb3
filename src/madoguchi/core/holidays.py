"""National holidays behind one adapter, so the library can change without touching callers.

The data comes from `jpholiday`, which its maintainers keep in step with the Cabinet Office's
list. The year-end closure and local holidays are not national holidays: offices/ handles them.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import jpholiday


@lru_cache(maxsize=8192)
def national_holiday_name(day: dt.date) -> str | None:
    """The name of the national holiday on `day` (振替休日 included), or None.

    Cached: the library recomputes a year's holidays on every call, and calendars ask for the
    same days again and again.
    """
    name = jpholiday.is_holiday_name(day)
    return str(name) if name else None
