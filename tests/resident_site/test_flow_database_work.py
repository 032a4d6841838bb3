"""The residents' booking flow adds no database work to the booking (decision 0027): once the
caches hold the pages and the reference data, a resident's month, day, form and reservation
page ask the database nothing, the confirmation reads the time's seats once (by primary key),
and the booking POST sends what the booking service sends and the rate limits' counters —
never a session row. With the caches switched off (the suite's default) the same flow reads
the database at every step: the negative control."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.core.audit import Actor
from madoguchi.core.pagecache import forget_pages
from madoguchi.offices.selectors import forget_reference_data
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation, ReservationStatus, Slot
from madoguchi.reservations.selectors import slot_for_booking
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, VISIT_DAY, birth_fields

pytestmark = pytest.mark.django_db

STEPS = ("month", "day", "form", "confirmation", "booking", "reservation page")


@pytest.fixture
def caches(settings: Any) -> None:
    settings.MADOGUCHI_PAGE_CACHE_SECONDS = 2
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60


def notice(n: int) -> str:
    return f"ABC{123456 + n}"


def resident_flow(city: factories.City, slot: Slot, number: str) -> dict[str, list[str]]:
    """One resident on the notice's QR path, in a browser of their own; each step's SQL."""
    browser = Client(enforce_csrf_checks=True)
    steps: dict[str, list[str]] = {}

    def step(name: str, call: Any) -> Any:
        with CaptureQueriesContext(connection) as queries:
            response = call()
        steps[name] = [query["sql"] for query in queries.captured_queries]
        return response

    carry = f"?notice={number}"
    month = step("month", lambda: browser.get(f"/book/card_pickup/{city.site.pk}/{carry}"))
    assert month.status_code == 200
    day = f"/book/card_pickup/{city.site.pk}/{VISIT_DAY.isoformat()}/{carry}"
    assert f"/slot/{slot.pk}/" in step("day", lambda: browser.get(day)).content.decode()
    url = f"/book/card_pickup/slot/{slot.pk}/"
    form = step("form", lambda: browser.get(url + carry)).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert csrf
    data = {"csrfmiddlewaretoken": csrf.group(1), "notice_number": number, **birth_fields()}
    page = step("confirmation", lambda: browser.post(url, data)).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token, page
    booked = step(
        "booking", lambda: browser.post(url, {**data, "step": "confirm", "token": token.group(1)})
    )
    assert booked.status_code == 302
    shown = step("reservation page", lambda: browser.get(booked["Location"]))
    code = Reservation.objects.get(notice_number=number).code
    assert shown.status_code == 200 and code in shown.content.decode()
    return steps


FILLING = {"month": 5, "day": 1, "form": 3, "confirmation": 1, "reservation page": 0}
"""Statements per step for the first resident, the caches empty: the month reads the
municipalities (offices.tenancy), the procedure by its code, the site with its municipality
and what it offers (two statements; kept for the booking window and the booking too, not read
again), and the month's seats; the day its times; the form the slot, the day's other times
and the seats (rendered afresh); the confirmation the seats. Before, the month read the site
and the form the procedure a second time."""


def touches(queries: list[str], table: str) -> list[str]:
    return [query for query in queries if f'"{table}"' in query or f" {table} " in query]


def test_the_flow_reads_only_the_seats_and_writes_only_the_booking(
    city: factories.City, caches: None, settings: Any
) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {"ip_write": (100, 60), "notice": (100, 60)}
    slot = factories.slot(city.site, city.pickup, capacity=5)
    for n in range(3):
        factories.notice_card(city.municipality, notice=notice(n))
    first = resident_flow(city, slot, notice(0))  # the first resident fills the caches
    steps = resident_flow(city, slot, notice(1))
    with CaptureQueriesContext(connection) as direct:  # the service alone, for a third card
        services.book_reservation(
            slot_id=slot.pk,
            procedure_code="card_pickup",
            applicant=services.Applicant(birth_date=BIRTH, notice_number=notice(2)),
            actor=Actor.resident(),
        )

    for name in ("month", "day", "form", "reservation page"):
        assert steps[name] == [], name
    # with the caches empty, each reference row is read once whichever page asks for it first
    # (the month's procedure and site serve the form and the booking too)
    assert {name: len(first[name]) for name in FILLING} == FILLING, first
    (seats,) = steps["confirmation"]
    assert '"reservations_slot"' in seats and "JOIN" not in seats
    limits = touches(steps["booking"], "core_ratecounter")
    assert len(limits) == 2  # per address and per notice number (core/ratelimit.py)
    booking = [query for query in steps["booking"] if query not in limits]
    assert len(booking) == len(direct.captured_queries)
    assert not any(touches(queries, "django_session") for queries in steps.values())
    assert Reservation.objects.filter(status=ReservationStatus.BOOKED).count() == 3


def test_with_the_caches_off_every_step_reads(city: factories.City) -> None:
    """The control: the same flow with the page and reference caches switched off."""
    slot = factories.slot(city.site, city.pickup, capacity=5)
    factories.notice_card(city.municipality, notice=notice(0))
    steps = resident_flow(city, slot, notice(0))
    assert all(steps[name] for name in ("month", "day", "form", "confirmation"))
    assert len(steps["confirmation"]) > 1


def test_the_times_of_a_day_come_into_the_reference_cache_in_one_read(
    city: factories.City, settings: Any
) -> None:
    """A rush asks for many times of the same day: the first slot read brings the day's other
    times of that site and procedure with it (one more statement), so they cost no read of
    their own; another day, another site's or procedure's times are read apart."""
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60
    forget_reference_data()
    forget_pages()
    first, *same_day = [
        factories.slot(city.site, city.pickup, time=f"{hour}:00") for hour in (10, 11, 14)
    ]
    other_day = factories.slot(
        city.site, city.pickup, day=VISIT_DAY + dt.timedelta(days=1), time="10:00"
    )
    other_procedure = factories.slot(city.site, city.renewal, time="10:00")

    def reads(slot: Slot) -> int:
        with CaptureQueriesContext(connection) as queries:
            found = slot_for_booking(slot.pk)
        assert found is not None and found.pk == slot.pk and found.starts_at == slot.starts_at
        return sum('"reservations_slot"' in q["sql"] for q in queries.captured_queries)

    assert reads(first) == 2  # the slot, then its day's other times
    assert [reads(slot) for slot in same_day] == [0, 0]
    assert reads(other_day) == 2
    assert reads(other_procedure) == 2
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 0  # the control: every read its own, alone
    assert [reads(slot) for slot in (first, *same_day)] == [1, 1, 1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "control"])
def test_the_confirmations_seat_read_is_prepared_once_per_connection(
    frozen: Any, caches: None, settings: Any, prepared: bool
) -> None:
    """PostgreSQL: the seat read every confirmation sends is a statement the connection
    prepared on its first run (core/prepared.py) and reuses — parsed and planned once, not per
    booking. The control: with MADOGUCHI_PREPARED_READS off nothing is prepared, and the same
    read answers the same."""
    settings.MADOGUCHI_PREPARED_READS = prepared
    settings.MADOGUCHI_RATE_LIMITS = {"ip_write": (100, 60), "notice": (100, 60)}
    city = factories.city()
    slot = factories.slot(city.site, city.pickup, capacity=5)
    for n in range(3):
        factories.notice_card(city.municipality, notice=notice(n))
    connection.close()  # a fresh connection: nothing prepared on it yet
    confirmations = [resident_flow(city, slot, notice(n))["confirmation"] for n in range(3)]

    assert [len(sent) for sent in confirmations] == [1, 1, 1]
    assert all('"reservations_slot"."id" = ' in sent for (sent,) in confirmations)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        kept = [statement for (statement,) in cursor.fetchall()]
    if prepared:
        (seats,) = kept  # one statement for three confirmations (and the form's first read)
        assert '"reservations_slot"."booked"' in seats and '"reservations_slot"."id" = $1' in seats
    else:
        assert kept == []
    assert Slot.objects.get(pk=slot.pk).booked == 3
