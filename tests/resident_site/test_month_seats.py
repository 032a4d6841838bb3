"""The month calendar's availability from one aggregate statement (decision 0027):
`reservations.selectors.month_seats` agrees with reading the slots one by one — the booking
window, the past, the days too soon to book, full and unoffered times, another procedure —
and a month or day page rendered afresh (the page cache expired) sends ONE statement once the
reference data is cached (it sent six to eight)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.core import clock
from madoguchi.offices.models import Municipality, Procedure, Site
from madoguchi.reservations.models import Slot
from madoguchi.reservations.selectors import booking_window, month_seats
from tests.resident_site import factories
from tests.resident_site.factories import VISIT_DAY

pytestmark = pytest.mark.django_db


def one_by_one(
    site: Site,
    procedure: Procedure,
    municipality: Municipality,
    first: dt.date,
    last: dt.date,
    people: int = 1,
) -> tuple[dict[dt.date, tuple[int, int]], set[dt.date], dt.date | None, dict[dt.date, int]]:
    """The calendar's rules read slot by slot, in Python (the reference)."""
    window = booking_window(municipality)
    today, now = clock.today(), clock.now()
    seats: dict[dt.date, tuple[int, int]] = {}
    most_in_one: dict[dt.date, int] = {}
    soon: set[dt.date] = set()
    first_free: dt.datetime | None = None
    for slot in Slot.objects.filter(site=site, procedure=procedure, is_offered=True):
        day = clock.to_jst(slot.starts_at).date()
        bookable = window.first <= day <= window.last and slot.starts_at >= now
        if bookable and first <= day <= last:
            free, total = seats.get(day, (0, 0))
            seats[day] = (free + max(0, slot.capacity - slot.booked), total + slot.capacity)
            most_in_one[day] = max(most_in_one.get(day, 0), slot.capacity - slot.booked, 0)
        if max(first, today) <= day <= min(last, window.first - dt.timedelta(days=1)):
            soon.add(day)
        earlier = first_free is None or slot.starts_at < first_free
        if bookable and slot.capacity - slot.booked >= people and earlier:
            first_free = slot.starts_at
    return seats, soon, clock.to_jst(first_free).date() if first_free else None, most_in_one


@pytest.mark.parametrize("lead_days", [3, 0])
def test_month_seats_agree_with_the_slots_read_one_by_one(
    city: factories.City, lead_days: int
) -> None:
    Municipality.objects.filter(pk=city.municipality.pk).update(booking_window_min_days=lead_days)
    municipality = Municipality.objects.get(pk=city.municipality.pk)
    window = booking_window(municipality)
    today = clock.today()
    site, pickup = city.site, city.pickup

    def at(day: dt.date, time: str, **kw: Any) -> Slot:
        return factories.slot(site, pickup, day=day, time=time, **kw)

    at(today, "08:00")  # already begun (NOW is 09:00)
    at(today, "15:00", capacity=2, booked=1)
    at(today + dt.timedelta(days=1), "10:00")
    at(window.first, "09:00", capacity=2, booked=2)  # full
    at(window.first, "11:00", capacity=3, booked=1)
    at(VISIT_DAY, "10:00", capacity=3, booked=3)
    at(VISIT_DAY, "11:00", capacity=6, booked=1)
    hidden = at(VISIT_DAY, "12:00", capacity=9)
    Slot.objects.filter(pk=hidden.pk).update(is_offered=False)
    factories.slot(site, city.renewal, day=VISIT_DAY, time="13:00", capacity=7)
    at(window.last, "16:00", capacity=4)
    at(window.last + dt.timedelta(days=1), "10:00", capacity=5)  # beyond the window

    ranges = [
        (dt.date(2026, 5, 31), dt.date(2026, 7, 4)),  # June's grid
        (dt.date(2026, 6, 28), dt.date(2026, 8, 1)),  # July's
        (VISIT_DAY, VISIT_DAY),
        (window.last, window.last + dt.timedelta(days=3)),
    ]
    for (first, last), people in itertools.product(ranges, (1, 2, 4)):
        found = month_seats(
            site_id=site.pk,
            procedure_code="card_pickup",
            date_from=first,
            date_to=last,
            people=people,
        )
        seats, soon, first_free, most = one_by_one(site, pickup, municipality, first, last, people)
        assert found.seats == seats, (first, last)
        assert found.soon == soon, (first, last)
        assert found.first_free_day == first_free, (first, last, people)
        assert found.most_in_one == most, (first, last)
    june = month_seats(
        site_id=site.pk,
        procedure_code="card_pickup",
        date_from=dt.date(2026, 5, 31),
        date_to=dt.date(2026, 7, 4),
    )
    assert june.seats[VISIT_DAY] == (5, 9)  # the full time counts 0, the hidden one nothing
    assert june.most_in_one[VISIT_DAY] == 5  # 11:00's five, not the day's sum
    assert june.first_free_day == (today if lead_days == 0 else window.first)


def test_an_unknown_site_or_procedure_has_no_seats(city: factories.City) -> None:
    factories.slot(city.site, city.pickup)
    for site_id, code in ((city.site.pk + 999, "card_pickup"), (city.site.pk, "nothing")):
        found = month_seats(
            site_id=site_id, procedure_code=code, date_from=VISIT_DAY, date_to=VISIT_DAY
        )
        assert (found.seats, found.soon, found.first_free_day) == ({}, frozenset(), None)


def test_a_month_or_day_page_rendered_afresh_sends_one_statement(
    city: factories.City, settings: Any
) -> None:
    settings.MADOGUCHI_PAGE_CACHE_SECONDS = 0  # every request renders the page
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60
    slot = factories.slot(city.site, city.pickup, capacity=4, booked=1)
    browser = Client()
    month = f"/book/card_pickup/{city.site.pk}/?month=2026-06"
    day = f"/book/card_pickup/{city.site.pk}/{VISIT_DAY.isoformat()}/"
    for url in (month, day):  # the first fills the reference cache
        assert browser.get(url).status_code == 200
    for url in (month, day):
        with CaptureQueriesContext(connection) as queries:
            page = browser.get(url)
        assert page.status_code == 200
        assert len(queries.captured_queries) == 1, [q["sql"] for q in queries]
        assert '"reservations_slot"' in queries.captured_queries[0]["sql"]
    assert f"/slot/{slot.pk}/" in page.content.decode()
    Slot.objects.filter(pk=slot.pk).update(booked=4)  # booked out: seen at the next render
    assert f"/slot/{slot.pk}/" not in browser.get(day).content.decode()
    assert (
        f"/book/card_pickup/{city.site.pk}/{VISIT_DAY}/" not in browser.get(month).content.decode()
    )


def test_a_site_that_stops_offering_the_procedure_is_gone_from_its_pages_at_once(
    city: factories.City, settings: Any
) -> None:
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60
    factories.slot(city.site, city.pickup)
    url = f"/book/card_pickup/{city.site.pk}/"
    assert Client().get(url).status_code == 200
    city.site.procedures.remove(city.pickup)  # m2m_changed clears the reference cache
    assert Client().get(url).status_code == 404
