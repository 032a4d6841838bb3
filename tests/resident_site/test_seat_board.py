"""The confirmation's seats from this process's seat board (decision 0027, session 13): a time
the day page showed within its few seconds with seats to spare is confirmed without a read; a
time seen nearly full, withdrawn, booked down by this process, or not seen within those seconds
is read live — so it is never offered as free when it is booked out — and a time booked out
elsewhere in those seconds is refused by the booking statement, nothing stored."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.core.audit import Actor
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.reservations.selectors import slot_for_booking
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, VISIT_DAY, birth_fields

pytestmark = pytest.mark.django_db

TTL = 2
SPARE = 5
SEAT_READ = re.compile(
    r'SELECT "reservations_slot"."capacity"( AS "capacity")?, '
    r'"reservations_slot"."booked"( AS "booked")?, '
    r'"reservations_slot"."is_offered"( AS "is_offered")? FROM "reservations_slot" '
    r'WHERE "reservations_slot"."id" = '
)
"""The seat read (`reservations.selectors.with_live_seats`): three columns by primary key."""


@pytest.fixture
def board(settings: Any) -> None:
    settings.MADOGUCHI_PAGE_CACHE_SECONDS = TTL
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60
    settings.MADOGUCHI_NEARLY_FULL_SEATS = SPARE


def notice(n: int) -> str:
    return f"ABC{123456 + n}"


def see_the_day(city: factories.City) -> None:
    """A resident opens the day's times (the day page rendered: its seats go on the board),
    and the times' reference rows are in the reference cache (as after the first form)."""
    day = Client().get(f"/book/card_pickup/{city.site.pk}/{VISIT_DAY.isoformat()}/")
    assert day.status_code == 200
    for slot in Slot.objects.all():
        assert slot_for_booking(slot.pk) is not None


def confirm(slot: Slot, number: str, *, members: int = 0) -> tuple[Any, int]:
    """The details POSTed for a confirmation: the answer and the seat reads it sent (a refusal
    then reads the nearest free times too: not counted)."""
    browser = Client()
    data: dict[str, Any] = {"notice_number": number, **birth_fields()}
    if members:
        data["members"] = str(members)
        for i in range(members):
            data |= {
                f"member{i + 1}-notice_number": notice(50 + i),
                **{f"member{i + 1}-{k}": v for k, v in birth_fields().items()},
            }
    with CaptureQueriesContext(connection) as queries:
        answer = browser.post(f"/book/card_pickup/slot/{slot.pk}/", data)
    reads = [q["sql"] for q in queries.captured_queries if SEAT_READ.match(q["sql"])]
    return answer, len(reads)


def offered(answer: Any) -> bool:
    return answer.status_code == 200 and 'name="token"' in answer.content.decode()


@pytest.mark.parametrize("left", [SPARE - 1, SPARE], ids=["nearly-full", "to-spare"])
def test_a_nearly_full_time_is_read_live_and_one_with_seats_to_spare_is_not(
    city: factories.City, board: None, left: int
) -> None:
    """The boundary: fewer than MADOGUCHI_NEARLY_FULL_SEATS left after the resident's seat by
    what the day page saw — one live read; that many — none."""
    factories.notice_card(city.municipality, notice=notice(0))
    slot = factories.slot(city.site, city.pickup, capacity=left + 1)
    see_the_day(city)
    answer, reads = confirm(slot, notice(0))
    assert offered(answer)
    assert reads == (1 if left < SPARE else 0)


def test_a_familys_seats_count_against_the_spare_seats(city: factories.City, board: None) -> None:
    """Three people need three seats: what is left after them decides the live read."""
    factories.notice_card(city.municipality, notice=notice(0))
    for i in range(2):
        factories.notice_card(city.municipality, notice=notice(50 + i))
    slot = factories.slot(city.site, city.pickup, capacity=SPARE + 1)
    see_the_day(city)
    assert confirm(slot, notice(0))[1] == 0  # alone: SPARE left
    assert confirm(slot, notice(0), members=2)[1] == 1  # three of them: SPARE − 2 left


def test_a_time_seen_nearly_full_and_booked_out_since_is_never_offered(
    city: factories.City, board: None
) -> None:
    factories.notice_card(city.municipality, notice=notice(0))
    slot = factories.slot(city.site, city.pickup, capacity=SPARE)
    see_the_day(city)
    Slot.objects.filter(pk=slot.pk).update(booked=SPARE)  # another process took every seat
    answer, reads = confirm(slot, notice(0))
    assert (answer.status_code, reads) == (409, 1)
    assert not offered(answer)


def test_availability_seen_longer_ago_than_the_page_cache_is_read_again(
    city: factories.City, board: None, frozen: Any
) -> None:
    """Never staler than MADOGUCHI_PAGE_CACHE_SECONDS: a time seen with every seat free and
    booked out since is refused at the confirmation once those seconds are over."""
    factories.notice_card(city.municipality, notice=notice(0))
    slot = factories.slot(city.site, city.pickup, capacity=SPARE * 4)
    see_the_day(city)
    Slot.objects.filter(pk=slot.pk).update(booked=SPARE * 4)
    frozen.shift(dt.timedelta(seconds=TTL))
    answer, reads = confirm(slot, notice(0))
    assert (answer.status_code, reads) == (409, 1)


def test_within_the_seconds_a_time_booked_out_elsewhere_is_refused_by_the_booking(
    city: factories.City, board: None
) -> None:
    """What the board cannot see: another process's bookings of a time it saw with seats to
    spare, within the day page's seconds. The confirmation offers it as the day page did; the
    booking statement refuses it (409, the nearest free times) and stores nothing."""
    factories.notice_card(city.municipality, notice=notice(0))
    slot = factories.slot(city.site, city.pickup, time="10:00", capacity=SPARE * 4)
    other = factories.slot(city.site, city.pickup, time="11:00", capacity=SPARE * 4)
    see_the_day(city)
    Slot.objects.filter(pk=slot.pk).update(booked=SPARE * 4)
    browser = Client()
    data = {"notice_number": notice(0), **birth_fields()}
    url = f"/book/card_pickup/slot/{slot.pk}/"
    page = browser.post(url, data)
    token = re.search(r'name="token" value="([^"]+)"', page.content.decode())
    assert token
    refused = browser.post(url, {**data, "step": "confirm", "token": token.group(1)})
    assert refused.status_code == 409
    assert f"/book/card_pickup/slot/{other.pk}/" in refused.content.decode()
    assert not Reservation.objects.exists()
    assert Slot.objects.get(pk=slot.pk).booked == SPARE * 4


@pytest.mark.parametrize("by", ["this process", "another process"])
def test_this_processs_own_bookings_count_on_the_board_at_once(
    city: factories.City, board: None, by: str
) -> None:
    """Two seats booked through this process's booking service leave SPARE − 1 after the next
    resident: read live. The control: the same two seats taken where the board cannot see
    them (another process, here an UPDATE) leave it at the seats it saw — no read."""
    for n in range(3):
        factories.notice_card(city.municipality, notice=notice(n))
    slot = factories.slot(city.site, city.pickup, capacity=SPARE + 2)
    see_the_day(city)
    if by == "this process":
        for n in (1, 2):
            services.book_reservation(
                slot_id=slot.pk,
                procedure_code="card_pickup",
                applicant=services.Applicant(birth_date=BIRTH, notice_number=notice(n)),
                actor=Actor.resident(),
            )
    else:
        Slot.objects.filter(pk=slot.pk).update(booked=2)
    answer, reads = confirm(slot, notice(0))
    assert offered(answer)
    assert reads == (1 if by == "this process" else 0)


def test_a_time_seen_withdrawn_is_read_live(city: factories.City, board: None) -> None:
    """A live read that found the time withdrawn goes on the board as such; the next
    confirmation reads again (it may be offered again) rather than trust it."""
    factories.notice_card(city.municipality, notice=notice(0))
    slot = factories.slot(city.site, city.pickup, capacity=SPARE * 4)
    Slot.objects.filter(pk=slot.pk).update(is_offered=False)
    assert confirm(slot, notice(0))[1] == 1
    Slot.objects.filter(pk=slot.pk).update(is_offered=True)
    answer, reads = confirm(slot, notice(0))
    assert offered(answer) and reads == 1


def test_with_the_page_cache_off_every_confirmation_reads_live(city: factories.City) -> None:
    """MADOGUCHI_PAGE_CACHE_SECONDS=0 (the suite's default): the board is never trusted."""
    factories.notice_card(city.municipality, notice=notice(0))
    slot = factories.slot(city.site, city.pickup, capacity=SPARE * 4)
    see_the_day(city)
    assert [confirm(slot, notice(0))[1] for _ in range(2)] == [1, 1]
