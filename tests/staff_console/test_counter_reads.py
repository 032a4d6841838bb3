"""What the counter's everyday requests read: a check-in, the calling page and the card
hand-over read nothing twice (each request's statements counted, so a read added back fails)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.issuance.models import CardRecord, CardStatus, IdDocument, OldCard, PinSetting
from madoguchi.offices.models import Counter
from madoguchi.offices.tenancy import resident_url
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.selectors import ticket_view
from madoguchi.walkins.services import call_next_ticket, issue_ticket
from tests.conftest import signed_in_client, site_official
from tests.resident_site import factories
from tests.resident_site.factories import VISIT_DAY

pytestmark = pytest.mark.django_db

ON_THE_DAY = clock.at(VISIT_DAY, dt.time(9, 50))
SYSTEM = Actor.system("counter-reads")

PROCEDURE_DURATIONS = 'FROM "offices_procedure" WHERE "offices_procedure"."id" IN'
"""The procedures' planned minutes read apart (the queue's tickets carry their procedure)."""


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The request's SQL statements, without the savepoints its atomic blocks set."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def reading(sql: list[str], table: str) -> list[str]:
    return [s for s in sql if f'FROM "{table}"' in s]


@pytest.fixture
def booked(city: factories.City) -> Reservation:
    """A resident's card pick-up, booked ahead."""
    return factories.book_card_pickup(city)


@pytest.fixture
def console(city: factories.City, booked: Reservation, frozen: Any) -> Client:
    """On the booked day, behind one walk-in: an official of the site signed in."""
    frozen.move_to(ON_THE_DAY)
    issue_ticket(site=city.site, procedure=city.renewal, actor=SYSTEM)
    return signed_in_client(site_official(city.site, "desk"))


@pytest.fixture
def checked_in(booked: Reservation, console: Client) -> Reservation:
    """The booked visitor checked in through the console."""
    response = console.post(f"/staff/reservations/{booked.code}/check-in/")
    assert response.status_code == 302
    return booked


def test_a_check_in_reads_the_queue_settings_once(booked: Reservation, console: Client) -> None:
    """The late grace and the new ticket's wait share one read of the site's queue settings
    (read twice before), and the wait takes the procedures' planned minutes from the queue's
    tickets (read again by id before): 24 → 22 statements. The wait given is still the one the
    queue gives the ticket."""
    with CaptureQueriesContext(connection) as captured:
        response = console.post(f"/staff/reservations/{booked.code}/check-in/")

    assert response.status_code == 302
    sql = statements(captured)
    assert len(reading(sql, "walkins_queuesettings")) == 1, sql
    assert not [s for s in sql if PROCEDURE_DURATIONS in s], sql
    assert len(sql) <= 22, sql
    ticket = QueueTicket.objects.select_related("site", "procedure").get(reservation=booked)
    assert ticket.estimated_wait_minutes is not None
    assert ticket.estimated_wait_minutes == ticket_view(ticket).estimated_wait_minutes


def test_the_calling_page_reads_no_procedure_twice_and_finds_the_residents_site_once(
    city: factories.City, checked_in: Reservation, console: Client
) -> None:
    """The queue's estimates take the planned minutes from the tickets' procedures, and the
    board's and kiosk's links share one look-up of the residents' site (the municipalities,
    with the reference cache off as here, were read once per link): 18 → 16 statements. The
    page still links both."""
    with CaptureQueriesContext(connection) as captured:
        response = console.get(f"/staff/queue/sites/{city.site.pk}/")

    assert response.status_code == 200
    sql = statements(captured)
    assert not [s for s in sql if PROCEDURE_DURATIONS in s], sql
    assert len(reading(sql, "offices_municipality")) <= 1, sql
    assert len(sql) <= 16, sql
    for link, view in (("board_url", "queue_board:board"), ("kiosk_url", "queue_board:kiosk")):
        expected = resident_url(city.municipality, view, kwargs={"site_id": city.site.pk})
        assert response.context[link] == expected, link


def test_the_hand_over_reads_the_municipality_with_the_booking(
    city: factories.City, checked_in: Reservation, console: Client
) -> None:
    """The screen and the hand-over read the site's municipality (whose officials' rules it
    asks) with the booking, not apart; the hand-over does not read the booking back once the
    ticket has closed it (nobody used what it returned), and the ticket's lock reads the
    booking's code with it: the screen 8 → 7 statements, the hand-over 22 → 19. The ticket and
    the card are read once each, locked, and moved as read (each was read, then read again to
    lock it): 19 → 17 — the card's one other read is the booking's closing check that no booked
    card is left. The card is handed over and the visit closed."""
    called = call_next_ticket(
        site=city.site, counter=Counter.objects.filter(site=city.site).first(), actor=SYSTEM
    )
    assert called is not None and called.reservation_id == checked_in.pk  # booked go first
    url = f"/staff/reservations/{checked_in.code}/hand-over/"

    with CaptureQueriesContext(connection) as screen:
        response = console.get(url)
    assert response.status_code == 200
    sql = statements(screen)
    assert not reading(sql, "offices_municipality"), sql
    assert len(sql) <= 7, sql

    form = {
        "is_proxy": "0",
        "id_documents": [IdDocument.DRIVING_LICENCE],
        "old_card": OldCard.COLLECTED_AND_PUNCHED,
        "pin_setting": PinSetting.SET_BY_HOLDER,
        "e_certificates": "both",
        "identity_checked": "on",
    }
    with CaptureQueriesContext(connection) as handing:
        response = console.post(url, form)
    assert response.status_code == 302
    sql = statements(handing)
    assert not reading(sql, "offices_municipality"), sql
    assert len(reading(sql, "walkins_queueticket")) == 1, sql
    assert len(reading(sql, "issuance_cardrecord")) == 2, sql
    assert len(sql) <= 17, sql
    checked_in.refresh_from_db()
    assert checked_in.status == ReservationStatus.SERVED
    assert QueueTicket.objects.get(reservation=checked_in).status == TicketStatus.DONE
    card = CardRecord.objects.get(notice_number=checked_in.notice_number)
    assert card.status == CardStatus.HANDED_OVER


def test_a_no_show_at_the_counter_reads_ticket_and_card_once(
    city: factories.City, checked_in: Reservation, console: Client
) -> None:
    """The day view's 来庁なし for a called card pick-up reads the visitor's ticket once, locked,
    and the card it frees once, locked (each was read, then read again to lock it): 17 → 15
    statements. Ticket and booking are no-shows, the card can be booked again."""
    call_next_ticket(
        site=city.site, counter=Counter.objects.filter(site=city.site).first(), actor=SYSTEM
    )

    with CaptureQueriesContext(connection) as captured:
        response = console.post(f"/staff/reservations/{checked_in.code}/no-show/")

    assert response.status_code == 302
    sql = statements(captured)
    assert len(reading(sql, "walkins_queueticket")) == 1, sql
    assert len(reading(sql, "issuance_cardrecord")) == 1, sql
    assert len(sql) <= 15, sql
    checked_in.refresh_from_db()
    assert checked_in.status == ReservationStatus.NO_SHOW
    assert QueueTicket.objects.get(reservation=checked_in).status == TicketStatus.NO_SHOW
    card = CardRecord.objects.get(notice_number=checked_in.notice_number)
    assert card.status == CardStatus.NOTICE_ISSUED
