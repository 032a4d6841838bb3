"""National holidays behind one adapter, so the library can change without touching callers.

The data comes from `jpholiday`, which its maintainers keep in step with the Cabinet Office's
list. The year-end closure and local holidays are not national holidays: offices/ handles them.
"""

from __future__ import annotations

import datetime as dt

import jpholiday


def national_holiday_name(day: dt.date) -> str | None:
    """The name of the national holiday on `day` (振替休日 included), or None."""
    name = jpholiday.is_holiday_name(day)
    return str(name) if name else None
