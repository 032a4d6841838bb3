"""Months and weeks (`core.dates`): the two kinds of "plus N months" and the Monday of a week."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.core.dates import add_months, monday_of, month_start

D = dt.date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),  # clamped to the month's end
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # a leap year's February
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 5, 15), 12, D(2027, 5, 15)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),  # across the year
        (D(2026, 1, 10), -13, D(2024, 12, 10)),
        (D(2026, 6, 30), 0, D(2026, 6, 30)),
    ],
)
def test_add_months_keeps_the_day_clamped_to_the_month_end(
    day: dt.date, months: int, expected: dt.date
) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 1)),
        (D(2026, 12, 5), 1, D(2027, 1, 1)),
        (D(2026, 12, 5), 0, D(2026, 12, 1)),
        (D(2026, 3, 15), -3, D(2025, 12, 1)),
        (D(2026, 4, 1), 36, D(2029, 4, 1)),
    ],
)
def test_month_start_is_the_first_of_the_later_month(
    day: dt.date, months: int, expected: dt.date
) -> None:
    assert month_start(day, months) == expected


def test_monday_of_every_day_of_a_week_is_that_weeks_monday() -> None:
    monday = D(2026, 11, 30)
    assert monday.weekday() == 0
    for offset in range(7):
        assert monday_of(monday + dt.timedelta(days=offset)) == monday
    assert monday_of(monday - dt.timedelta(days=1)) == monday - dt.timedelta(weeks=1)
