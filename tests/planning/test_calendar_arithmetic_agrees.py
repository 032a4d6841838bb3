"""The pure engine may import nothing of the project (import contract "planning is pure"), so
`core.dates` — the one module of month and week arithmetic — cannot serve it; the engine's own
three pieces of it must mean exactly what `core.dates` means, for every date a forecast meets."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.dates import add_months, monday_of, month_start
from madoguchi.planning.demand import _periods, horizon_end
from madoguchi.planning.rules import _minus_months, day_number

DAYS = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31))
MONTHS = st.integers(min_value=0, max_value=600)


@given(DAYS, MONTHS)
def test_the_engines_months_back_are_add_months_back(day: dt.date, months: int) -> None:
    assert _minus_months(day, months) == add_months(day, -months)


@given(DAYS, st.integers(min_value=1, max_value=600))
def test_the_engines_horizon_end_is_the_month_start_months_later(day: dt.date, months: int) -> None:
    start = month_start(day)
    assert horizon_end(start, months) == month_start(start, months)


@given(DAYS.filter(lambda d: d.year < 2190), st.integers(min_value=1, max_value=24))
def test_the_engines_weeks_start_on_monday_of(day: dt.date, months: int) -> None:
    start = month_start(day)
    assert int(_periods(start, months, "week")[0]) == day_number(monday_of(start))
