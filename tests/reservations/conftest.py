from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from madoguchi.offices.models import Municipality, Procedure, Site
from tests.frozen_clock import BOOKINGS_NOW
from tests.offices import factories


@pytest.fixture
def now() -> dt.datetime:
    """`frozen` holds the bookings' Tuesday here (tests/frozen_clock.py)."""
    return BOOKINGS_NOW


@pytest.fixture
def municipality(db: None) -> Municipality:
    return factories.municipality()


@pytest.fixture
def card_pickup(db: None) -> Procedure:
    return factories.procedure("card_pickup")


@pytest.fixture
def cert_renewal(db: None) -> Procedure:
    return factories.procedure("cert_renewal", proxy_allowed=True)


@pytest.fixture
def main_office(
    municipality: Municipality, card_pickup: Procedure, cert_renewal: Procedure
) -> Site:
    site = factories.site(municipality, counters=2, terminals=2)
    site.procedures.set([card_pickup, cert_renewal])
    return site


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that use `booking_path` run once per implementation of the booking transaction
    this database has: on PostgreSQL the one statement (`reservations.fastpath`) and the ORM
    reference; on SQLite the ORM only (it has no data-modifying WITH queries)."""
    if "booking_path" in metafunc.fixturenames:
        from django.db import connection

        paths = ["statement", "orm"] if connection.vendor == "postgresql" else ["orm"]
        metafunc.parametrize("booking_path", paths, indirect=True)


@pytest.fixture
def booking_path(request: pytest.FixtureRequest, settings: Any) -> str:
    """The booking implementation this test runs against (`MADOGUCHI_BOOKING_PATH`)."""
    path: str = request.param
    settings.MADOGUCHI_BOOKING_PATH = path
    return path
