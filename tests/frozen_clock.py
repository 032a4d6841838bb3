"""The tests' one frozen clock: the moments the suites freeze time on, and the fixtures that do it.

Loaded as a plugin by tests/conftest.py. A test asks for `frozen` (time stands still; move it with
`frozen.move_to(…)`). The moment is `now`: the residents' Monday unless the test or its module
carries `@pytest.mark.frozen_at(moment)`, or its directory's conftest overrides `now`
(reservations/ and api/ freeze on the bookings' Tuesday). Inline freezes use `frozen_at(…)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine

from madoguchi.core.clock import JST

RESIDENTS_NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=JST)
"""The residents' pages: a Monday with no holiday in June, 9 days before their visit day."""

BOOKINGS_NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=JST)
"""The booking services and the API: a Tuesday, 6 days before their visit day."""

CARDS_NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=JST)
"""Cards and notices: a Friday; the notices' four printed weeks run to Thursday 24 December."""

APPLICATIONS_NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=JST)
"""The application-count imports: a Monday in the month before the renewal wave's reports."""

DEMO_DAY = dt.date(2026, 11, 26)
"""The demo city's today (a Thursday)."""

DEMO_MORNING = dt.datetime.combine(DEMO_DAY, dt.time(10, 0), tzinfo=JST)
"""10:00 on the demo city's today."""

DEMO_EVENING = dt.datetime.combine(DEMO_DAY, dt.time(18, 0), tzinfo=JST)
"""18:00 on the demo city's today, after the counters close."""

HALL_DAY = dt.date(2025, 6, 10)
"""The walk-in hall's ordinary working Tuesday (no holiday)."""

HALL_NOW = dt.datetime.combine(HALL_DAY, dt.time(10, 0), tzinfo=JST)
"""10:00 on the walk-in hall's Tuesday."""


@contextmanager
def frozen_at(moment: dt.datetime, *, tick: bool = False) -> Iterator[time_machine.Traveller]:
    """Time stands at `moment` (or starts there and runs on, with `tick=True` for browsers)."""
    with time_machine.travel(moment, tick=tick) as traveller:
        yield traveller


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "frozen_at(moment): the moment the `frozen` fixture holds")


@pytest.fixture
def now(request: pytest.FixtureRequest) -> dt.datetime:
    """The moment `frozen` holds: the test's `frozen_at` mark, else the residents' Monday."""
    marker = request.node.get_closest_marker("frozen_at")
    if marker is None:
        return RESIDENTS_NOW
    moment = marker.args[0]
    assert isinstance(moment, dt.datetime)
    return moment


@pytest.fixture
def frozen(now: dt.datetime) -> Iterator[time_machine.Traveller]:
    """Time frozen on `now`; move it with `frozen.move_to(…)`."""
    with frozen_at(now) as traveller:
        yield traveller
