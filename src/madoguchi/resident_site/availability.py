"""Slot availability shaped for the booking pages: the month grid and the list of times.

The numbers come from `reservations.selectors`; this module only lays them out. ○ / △ / ×
always come with words (「空きあり」「残りわずか」「空きなし」) so neither colour nor symbol alone
carries the meaning (JIS X 8341-3 / WCAG 1.4.1).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from madoguchi.core import clock
from madoguchi.core.dates import month_start
from madoguchi.reservations.models import Slot
from madoguchi.reservations.selectors import bookable_slots, month_seats


class Level(Enum):
    """How free a day or a time is, as a symbol and in words."""

    MANY = "many"
    FEW = "few"
    NONE = "none"
    SOON = "soon"
    CLOSED = "closed"
    TOO_FEW = "too_few"
    """Free seats, but no time with a seat for each of the people coming together."""

    @property
    def symbol(self) -> str:
        return {
            "many": "○",
            "few": "△",
            "none": "×",
            "soon": "◇",
            "closed": "－",
            "too_few": "×",
        }[self.value]

    @property
    def words(self) -> Promise:
        return {
            "many": _("空きあり"),
            "few": _("残りわずか"),
            "none": _("空きなし"),
            "soon": _("直前のためネット予約は終了"),
            "closed": _("受付なし"),
            "too_few": _("人数分の空きなし"),
        }[self.value]


def level_of(remaining: int, capacity: int) -> Level:
    """○ when more than a third is free, △ when less, × when full (the selectors' rule)."""
    if capacity <= 0:
        return Level.CLOSED
    if remaining <= 0:
        return Level.NONE
    return Level.MANY if remaining * 3 > capacity else Level.FEW


@dataclass(frozen=True)
class CalendarDay:
    """One cell of the month grid."""

    day: dt.date
    in_month: bool
    level: Level

    @property
    def bookable(self) -> bool:
        return self.in_month and self.level in (Level.MANY, Level.FEW)


@dataclass(frozen=True)
class Month:
    """A month calendar: its weeks and the first day with a free seat in the booking window."""

    weeks: list[list[CalendarDay]]
    first_free_day: dt.date | None


def month_calendar(
    site_id: int, procedure_code: str, year: int, month: int, *, people: int = 1
) -> Month:
    """Weeks (Sunday first, as Japanese calendars print) of the month with each day's level,
    and the booking window's first day with a time for `people` — one aggregate statement
    (`reservations.selectors.month_seats`: the booking window and the future applied, seats
    summed per business date). For a family (`people` > 1) a day with free seats but no time
    seating all of them is `TOO_FEW`: not offered, as the day's page would offer none of its
    times."""
    weeks = calendar.Calendar(firstweekday=6).monthdatescalendar(year, month)
    found = month_seats(
        site_id=site_id,
        procedure_code=procedure_code,
        date_from=weeks[0][0],
        date_to=weeks[-1][-1],
        people=people,
    )

    def level(day: dt.date) -> Level:
        if day in found.seats:
            shown = level_of(*found.seats[day])
            if shown in (Level.MANY, Level.FEW) and found.most_in_one.get(day, 0) < people:
                return Level.TOO_FEW
            return shown
        return Level.SOON if day in found.soon else Level.CLOSED

    return Month(
        weeks=[
            [CalendarDay(day=day, in_month=day.month == month, level=level(day)) for day in week]
            for week in weeks
        ],
        first_free_day=found.first_free_day,
    )


def month_grid(site_id: int, procedure_code: str, year: int, month: int) -> list[list[CalendarDay]]:
    """The weeks of `month_calendar`."""
    return month_calendar(site_id, procedure_code, year, month).weeks


@dataclass(frozen=True)
class TimeChoice:
    """One offered time with its free seats."""

    slot_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    remaining: int
    level: Level


def time_choices(slots: Iterable[Slot]) -> list[TimeChoice]:
    """Slots as times a resident can pick (full ones included, shown as ×)."""
    return [
        TimeChoice(
            slot_id=slot.pk,
            starts_at=clock.to_jst(slot.starts_at),
            ends_at=clock.to_jst(slot.ends_at),
            remaining=slot.remaining,
            level=level_of(slot.remaining, slot.capacity),
        )
        for slot in slots
    ]


@dataclass(frozen=True)
class HourOfTimes:
    """The times of one day that start within one hour (「9時台」), for a compact list."""

    hour: int
    entries: list[Any]


def by_hour(entries: Iterable[Any]) -> list[HourOfTimes]:
    """`entries` (each with a `time`: a `TimeChoice`, as `_time_links` gives) grouped by the
    hour they start in, in time order: a phone shows a few short rows per hour instead of one
    long list."""
    hours: dict[int, list[Any]] = {}
    for entry in entries:
        hours.setdefault(entry["time"].starts_at.hour, []).append(entry)
    return [HourOfTimes(hour, found) for hour, found in hours.items()]


def day_times(site_id: int, procedure_code: str, day: dt.date) -> list[TimeChoice]:
    """Every offered time on `day` inside the booking window."""
    return time_choices(
        bookable_slots(site_id=site_id, procedure_code=procedure_code, date_from=day, date_to=day)
    )


def months_between(first_day: dt.date, last_day: dt.date) -> list[tuple[int, int]]:
    """(year, month) pairs from `first_day`'s month to `last_day`'s, for month navigation."""
    months = []
    month = month_start(first_day)
    while month <= last_day:
        months.append((month.year, month.month))
        month = month_start(month, 1)
    return months
