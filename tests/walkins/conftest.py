"""A small site to queue at: two counters, open Tuesday 8:30–17:15, two procedures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from madoguchi.core.clock import JST
from madoguchi.offices.models import (
    Counter,
    Municipality,
    OpeningSession,
    Procedure,
    SessionKind,
    Site,
    SiteKind,
)
from tests.frozen_clock import HALL_DAY

TUESDAY = HALL_DAY
"""An ordinary working day (no holiday)."""


def jst(hour: int, minute: int = 0, day: dt.date = TUESDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=JST)


@dataclass
class Hall:
    site: Site
    counter_1: Counter
    counter_2: Counter
    cert_renewal: Procedure
    card_pickup: Procedure


def make_hall(name: str = "本庁舎", *, counters_open: int = 2) -> Hall:
    municipality, _ = Municipality.objects.get_or_create(
        code="131016", defaults={"name": "千代田区"}
    )
    cert, _ = Procedure.objects.get_or_create(
        code="cert_renewal", defaults={"name": "電子証明書の更新", "duration_minutes": 10}
    )
    card, _ = Procedure.objects.get_or_create(
        code="card_pickup", defaults={"name": "カードの受け取り", "duration_minutes": 20}
    )
    site = Site.objects.create(
        municipality=municipality, name=name, kind=SiteKind.MAIN_OFFICE, address="千代田区1-1"
    )
    site.procedures.set([cert, card])
    counter_1 = Counter.objects.create(site=site, name="1番窓口")
    counter_2 = Counter.objects.create(site=site, name="2番窓口")
    for weekday in range(5):
        OpeningSession.objects.create(
            site=site,
            weekday=weekday,
            kind=SessionKind.WEEKDAY,
            starts_at_time=dt.time(8, 30),
            ends_at_time=dt.time(17, 15),
            counters_open=counters_open,
        )
    return Hall(site, counter_1, counter_2, cert, card)


@pytest.fixture
def hall(_kept_world: Any, db: None) -> Hall:
    """`make_hall()`: kept for consecutive tests that roll back (tests.personas.FACTORY_WORLDS),
    each test handed its own copy of the objects; built for the test otherwise."""
    from tests import personas as built

    if built.holding("hall"):
        return built.fresh_copy(_kept_world)  # type: ignore[no-any-return]
    return make_hall()
