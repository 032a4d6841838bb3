from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from madoguchi.offices.models import Municipality, Procedure, Site
from tests.offices import factories
from tests.reservations.factories import NOW


@pytest.fixture
def frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def city(db: None) -> Municipality:
    return factories.municipality()


@pytest.fixture
def card_pickup(db: None) -> Procedure:
    return factories.procedure("card_pickup")


@pytest.fixture
def cert_renewal(db: None) -> Procedure:
    return factories.procedure("cert_renewal", proxy_allowed=True)


@pytest.fixture
def main_office(city: Municipality, card_pickup: Procedure, cert_renewal: Procedure) -> Site:
    site = factories.site(city, counters=2, terminals=2)
    site.procedures.set([card_pickup, cert_renewal])
    return site
