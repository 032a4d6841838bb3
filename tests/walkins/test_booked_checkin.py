"""Booked visitors checking in: a queue ticket of their own, called before the walk-ins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import segno
from django.db import IntegrityError, transaction
from django.test import Client

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.offices.models import Counter
from madoguchi.reservations.models import ReservationStatus
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.models import QueueTicket, TicketPriority, TicketStatus
from madoguchi.walkins.selectors import queue_state, ticket_view
from madoguchi.walkins.services import call_next_ticket, check_in_booked_visitor, issue_ticket
from tests.conftest import login_staff, signed_in_client, site_official
from tests.resident_site import factories
from tests.resident_site.factories import VISIT_DAY

pytestmark = pytest.mark.django_db

CLERK = Actor.system("clerk")
KIOSK = Actor.resident("kiosk")
ON_THE_DAY = clock.at(VISIT_DAY, dt.time(9, 50))


book = factories.book_card_pickup


def console_for(city: factories.City) -> Client:
    """A signed-in official of the city's site."""
    return signed_in_client(site_official(city.site))


def walk_in(city: factories.City) -> QueueTicket:
    return issue_ticket(site=city.site, procedure=city.renewal, actor=KIOSK)


def counter(city: factories.City, n: int) -> Counter:
    return Counter.objects.filter(site=city.site).order_by("name")[n]


def test_checking_in_moves_the_reservation_and_gives_the_next_number_as_an_appointment(
    city: factories.City, frozen: Any
) -> None:
    booked = book(city)
    frozen.move_to(ON_THE_DAY)
    first = walk_in(city)

    ticket = check_in_booked_visitor(code=booked.code, actor=CLERK)

    booked.refresh_from_db()
    assert booked.status == ReservationStatus.CHECKED_IN
    assert (ticket.number, ticket.status, ticket.priority) == (
        first.number + 1,
        TicketStatus.WAITING,
        TicketPriority.APPOINTMENT,
    )
    assert (ticket.site_id, ticket.procedure_id, ticket.business_day) == (
        city.site.pk,
        city.pickup.pk,
        VISIT_DAY,
    )
    assert ticket.reservation_id == booked.pk
    issued = AuditEvent.objects.get(
        subject_type="walkins.QueueTicket", subject_id=str(ticket.pk), action="ticket.issued"
    )
    assert (issued.actor, issued.after["reservation"], issued.after["priority"]) == (
        "system:clerk",
        booked.code,
        TicketPriority.APPOINTMENT,
    )
    assert ticket.token not in str(issued.after)
    assert AuditEvent.objects.filter(action="reservation.check_in", subject_id=booked.code).exists()


def test_booked_visitors_are_called_at_their_time_and_walk_ins_fill_the_gap(
    city: factories.City, frozen: Any
) -> None:
    early, late = book(city, "10:00", n=0), book(city, "10:30", n=1)
    frozen.move_to(ON_THE_DAY)  # 9:50: the 10:00 booking is inside its 15-minute window
    walk_ins = [walk_in(city), walk_in(city)]
    second_booked = check_in_booked_visitor(code=late.code, actor=CLERK)
    first_booked = check_in_booked_visitor(code=early.code, actor=CLERK)

    called = [
        call_next_ticket(site=city.site, counter=counter(city, 0), actor=CLERK),
        call_next_ticket(site=city.site, counter=counter(city, 1), actor=CLERK),
    ]
    # The 10:00 visitor first (by booking time, though they checked in later); the 10:30
    # visitor is early, so the first walk-in fills the gap.
    assert [t.pk for t in called if t] == [first_booked.pk, walk_ins[0].pk]

    for ticket in called:
        assert ticket is not None
        QueueTicket.objects.filter(pk=ticket.pk).update(status=TicketStatus.NO_SHOW)
    frozen.move_to(clock.at(VISIT_DAY, dt.time(10, 15)))  # the 10:30 booking's window opens
    again = call_next_ticket(site=city.site, counter=counter(city, 0), actor=CLERK)
    assert again is not None and again.pk == second_booked.pk


def test_positions_and_waits_count_the_booked_visitors_ahead_of_walk_ins(
    city: factories.City, frozen: Any
) -> None:
    booked = book(city)
    frozen.move_to(ON_THE_DAY)
    walker = walk_in(city)
    appointment = check_in_booked_visitor(code=booked.code, actor=CLERK)

    assert ticket_view(appointment).position == 1
    assert ticket_view(walker).position == 2
    state = queue_state(city.site)
    assert [t.pk for t in state.waiting] == [appointment.pk, walker.pk]


def test_a_second_check_in_is_refused_and_leaves_one_ticket(
    city: factories.City, frozen: Any
) -> None:
    booked = book(city)
    frozen.move_to(ON_THE_DAY)
    check_in_booked_visitor(code=booked.code, actor=CLERK)
    with pytest.raises(DomainError) as refused:
        check_in_booked_visitor(code=booked.code, actor=CLERK)
    assert refused.value.code == "invalid_transition"
    assert QueueTicket.objects.filter(reservation=booked).count() == 1


def test_a_check_in_on_another_day_writes_nothing(city: factories.City) -> None:
    booked = book(city)  # the clock stands nine days before the visit
    with pytest.raises(DomainError) as refused:
        check_in_booked_visitor(code=booked.code, actor=CLERK)
    assert refused.value.code == "not_today"
    booked.refresh_from_db()
    assert booked.status == ReservationStatus.BOOKED
    assert not QueueTicket.objects.exists()


def test_a_failed_ticket_rolls_the_check_in_back(
    city: factories.City, frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    booked = book(city)
    frozen.move_to(ON_THE_DAY)

    def no_number(**_: object) -> int:
        raise DomainError("numbering_failed", "採番できません", status=500)

    monkeypatch.setattr("madoguchi.walkins.services.allocate_ticket_number", no_number)
    with pytest.raises(DomainError):
        check_in_booked_visitor(code=booked.code, actor=CLERK)
    booked.refresh_from_db()
    assert booked.status == ReservationStatus.BOOKED
    assert not AuditEvent.objects.filter(action="reservation.check_in").exists()


def test_the_database_refuses_a_priority_that_does_not_match_the_reservation(
    city: factories.City, frozen: Any
) -> None:
    frozen.move_to(ON_THE_DAY)
    ticket = walk_in(city)
    with pytest.raises(IntegrityError), transaction.atomic():
        QueueTicket.objects.filter(pk=ticket.pk).update(priority=TicketPriority.APPOINTMENT)


def test_the_console_check_in_tells_the_number_and_the_calling_page_marks_it(
    city: factories.City, frozen: Any
) -> None:
    booked = book(city)
    frozen.move_to(ON_THE_DAY)
    console = console_for(city)
    walk_in(city)

    response = console.post(f"/staff/reservations/{booked.code}/check-in/", follow=True)

    ticket = QueueTicket.objects.get(reservation=booked)
    assert ticket.number == 2
    assert f"受付番号 {ticket.number}、予約の方として先にお呼びします" in response.content.decode()
    day = console.get(f"/staff/sites/{city.site.pk}/?day={VISIT_DAY.isoformat()}")
    assert f"<strong>{ticket.label}</strong>（お待ちください" in day.content.decode()
    page = console.get(f"/staff/queue/sites/{city.site.pk}/").content.decode()
    assert f"<td>{ticket.label} <strong>予約</strong> 10:00</td>" in page
    assert "<td>1</td>" in page
    assert page.index(f"<td>{ticket.number} <strong>") < page.index("<td>1</td>")


def test_a_printable_slip_carries_the_number_and_a_qr_of_the_public_ticket_page(
    city: factories.City, frozen: Any, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = "https://madoguchi.example.lg.jp"
    booked = book(city)
    frozen.move_to(ON_THE_DAY)
    console = console_for(city)
    ticket = check_in_booked_visitor(code=booked.code, actor=CLERK)

    day = console.get(f"/staff/sites/{city.site.pk}/?day={VISIT_DAY.isoformat()}")
    assert f'href="/staff/queue/tickets/{ticket.pk}/slip/"' in day.content.decode()
    response = console.get(f"/staff/queue/tickets/{ticket.pk}/slip/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    page = response.content.decode()
    path = f"/queue/tickets/{ticket.token}/"
    assert f'<p class="number" id="slip-number">{ticket.number}</p>' in page
    assert f"予約コード {booked.code}" in page
    assert f"https://madoguchi.example.lg.jp{path}" in page
    expected_qr = segno.make(f"https://madoguchi.example.lg.jp{path}", error="m")
    assert (
        expected_qr.svg_inline(scale=4, title="待ち状況のページ（QRコード）", svgclass="qr") in page
    )
    assert Client().get(path).status_code == 200  # the link is the resident's ticket page


def test_a_slip_is_only_for_staff_of_the_tickets_site(city: factories.City, frozen: Any) -> None:
    frozen.move_to(ON_THE_DAY)
    ticket = walk_in(city)
    elsewhere = StaffUser.objects.create_user(
        "elsewhere", password="x", role=Role.OFFICIAL, municipality=city.municipality
    )
    client = Client()
    login_staff(client, elsewhere)
    assert client.get(f"/staff/queue/tickets/{ticket.pk}/slip/").status_code == 403
    assert Client().get(f"/staff/queue/tickets/{ticket.pk}/slip/").status_code == 302  # login


def test_the_waiting_room_board_lists_booked_visitors_first_and_says_why(
    city: factories.City, frozen: Any
) -> None:
    booked = book(city)
    frozen.move_to(ON_THE_DAY)
    walk_in(city)
    board = f"/queue/sites/{city.site.pk}/"
    assert '<p class="note" data-appointments hidden>' in Client().get(board).content.decode()

    ticket = check_in_booked_visitor(code=booked.code, actor=CLERK)

    page = Client().get(board).content.decode()
    assert f'<ol class="next-numbers" data-next><li>{ticket.label}</li><li>1</li></ol>' in page
    assert '<p class="note" data-appointments>ご予約の方は予約時刻に合わせて' in page


def test_a_booked_visitors_ticket_keeps_the_language_they_booked_in(
    city: factories.City, frozen: Any
) -> None:
    booked = book(city)
    booked.language = "vi"
    booked.save(update_fields=["language"])
    frozen.move_to(ON_THE_DAY)
    ticket = check_in_booked_visitor(code=booked.code, actor=CLERK)
    assert ticket.language == "vi"
    assert walk_in(city).language == ""  # issued without one: the phone's language decides
