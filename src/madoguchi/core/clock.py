"""The one clock. All "now" in madoguchi comes from here; tests freeze it with time-machine.

Business dates are Asia/Tokyo dates, whatever the server's own time zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def now() -> dt.datetime:
    """The current instant, timezone-aware, in Asia/Tokyo."""
    return dt.datetime.now(tz=JST)


def today() -> dt.date:
    """Today's business date in Asia/Tokyo."""
    return now().date()


def at(day: dt.date, time: dt.time) -> dt.datetime:
    """The aware instant of a wall-clock `time` on business date `day` in Asia/Tokyo."""
    return dt.datetime.combine(day, time, tzinfo=JST)


def to_jst(instant: dt.datetime) -> dt.datetime:
    """`instant` seen in Asia/Tokyo; raises ValueError on a naive datetime."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: every datetime in madoguchi is timezone-aware")
    return instant.astimezone(JST)
