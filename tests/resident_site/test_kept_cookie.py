"""What the resident's browser keeps (resident_site/kept.py, decision 0027): a signed cookie that
cannot be forged or moved to another code, and a reservation page rendered from what the booking
wrote only right after that booking — a later look, or one after a change from anywhere, reads
the reservation."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import signing
from django.test import Client

from madoguchi.core.audit import Actor
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation
from madoguchi.resident_site import kept
from tests.resident_site import factories
from tests.resident_site.factories import NOTICE, birth_fields

pytestmark = pytest.mark.django_db


def book(city: factories.City, client: Client, notice: str = NOTICE) -> tuple[Reservation, Any]:
    """Book through the pages; the reservation and the booking's redirect (not followed)."""
    factories.notice_card(city.municipality, notice=notice)
    slot = factories.slot(city.site, city.pickup, capacity=5)
    url = f"/book/card_pickup/slot/{slot.pk}/"
    data = {"notice_number": notice, **birth_fields()}
    token = re.search(r'name="token" value="([^"]+)"', client.post(url, data).content.decode())
    assert token
    redirect = client.post(url, {**data, "step": "confirm", "token": token.group(1)})
    assert redirect.status_code == 302
    return Reservation.objects.get(notice_number=notice), redirect


def test_no_session_row_is_kept_for_a_resident(city: factories.City, client: Client) -> None:
    booked, redirect = book(city, client)
    assert "sessionid" not in redirect.cookies and kept.COOKIE in redirect.cookies
    cookie = redirect.cookies[kept.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert booked.code in client.get(redirect["Location"]).content.decode()


def test_a_changed_or_forged_cookie_opens_nothing(city: factories.City, client: Client) -> None:
    booked, redirect = book(city, client)
    value = client.cookies[kept.COOKIE].value
    tampered = Client()
    tampered.cookies[kept.COOKIE] = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    forged = Client()
    forged.cookies[kept.COOKIE] = signing.dumps(  # signed, but not with the project's salt
        {"access": {booked.code: "1980-05-17"}}, salt="another"
    )
    for stranger in (tampered, forged):
        answer = stranger.get(redirect["Location"])
        assert answer.status_code == 302
        assert answer["Location"] == f"/lookup/?code={booked.code}"


def test_the_booking_just_made_opens_only_its_own_page(
    city: factories.City, client: Client
) -> None:
    book(city, client)
    factories.notice_card(city.municipality, notice="ABC123457")
    other = services.book_reservation(  # someone else's booking, never proved by this browser
        slot_id=factories.slot(city.site, city.pickup, time="11:00").pk,
        procedure_code="card_pickup",
        applicant=services.Applicant(birth_date=factories.BIRTH, notice_number="ABC123457"),
        actor=Actor.resident(),
    )
    answer = client.get(f"/reservation/{other.code}/")
    assert answer.status_code == 302 and answer["Location"] == f"/lookup/?code={other.code}"


def test_a_later_look_reads_the_reservation(
    city: factories.City, client: Client, frozen: Any
) -> None:
    """Cancelled at the counter before the resident opened the page: after JUST_BOOKED_SECONDS
    the page reads the database (the control: within them it shows what the booking wrote)."""
    booked, redirect = book(city, client)
    services.cancel_reservation(code=booked.code, actor=Actor.resident())
    frozen.shift(dt.timedelta(seconds=kept.JUST_BOOKED_SECONDS))
    page = client.get(redirect["Location"]).content.decode()
    assert "この予約は取り消されています" in page


def test_right_after_the_booking_the_page_is_what_the_booking_wrote(
    city: factories.City, client: Client, frozen: Any
) -> None:
    """The control of the test above: within the window the page is rendered from the cookie
    (here even though the database says otherwise), once — a second look reads the database."""
    booked, redirect = book(city, client)
    services.cancel_reservation(code=booked.code, actor=Actor.resident())
    first = client.get(redirect["Location"]).content.decode()
    assert "この予約は取り消されています" not in first and booked.code in first
    again = client.get(redirect["Location"]).content.decode()
    assert "この予約は取り消されています" in again
