from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from madoguchi.offices.models import Site
from madoguchi.reservations.models import Slot
from tests.frozen_clock import BOOKINGS_NOW
from tests.offices import factories as offices
from tests.reservations import factories


@pytest.fixture
def now() -> dt.datetime:
    """`frozen` holds the bookings' Tuesday here (tests/frozen_clock.py)."""
    return BOOKINGS_NOW


@pytest.fixture
def no_rate_limits(settings: Any) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {}


def booking_site() -> Site:
    """A site offering card pick-up and certificate renewal, with a card noticed to a resident
    born on 17 May 1980 (notice number ABC123456)."""
    city = offices.municipality()
    pickup = offices.procedure("card_pickup")
    renewal = offices.procedure("cert_renewal", proxy_allowed=True)
    site = offices.site(city, counters=2, terminals=2)
    site.procedures.set([pickup, renewal])
    factories.card(city, "ABC123456", birth=dt.date(1980, 5, 17))
    return site


@pytest.fixture
def site(_kept_world: Any, db: None) -> Site:
    """`booking_site()`: kept for consecutive tests that roll back at the same `now`
    (tests.personas.FACTORY_WORLDS), each test handed its own copy; built for the test
    otherwise."""
    from tests import personas as built

    if built.holding("site"):
        return built.fresh_copy(_kept_world)  # type: ignore[no-any-return]
    return booking_site()


@pytest.fixture
def slot(site: Site) -> Slot:
    return factories.slot(site, site.procedures.get(code="card_pickup"), capacity=2)
