"""The calling policy: booked visitors at their time (early window, late grace), counter
skills, recall → no-show, transfer keeping the place, numbering prefixes, stored estimates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.offices.models import Counter
from madoguchi.walkins.calling import call_order, order_key
from madoguchi.walkins.models import (
    QueuePrefix,
    QueueSettings,
    QueueTicket,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)
from madoguchi.walkins.selectors import queue_state, ticket_view
from madoguchi.walkins.services import (
    call_next_ticket,
    check_in_booked_visitor,
    finish_ticket,
    issue_ticket,
    recall_ticket,
    start_serving,
    transfer_ticket,
)
from tests.frozen_clock import HALL_NOW
from tests.resident_site import factories
from tests.resident_site.factories import VISIT_DAY
from tests.walkins.conftest import Hall, jst

pytestmark = pytest.mark.django_db

KIOSK = Actor.resident("kiosk")
CLERK = Actor("staff:1:clerk")


def at(hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return clock.at(VISIT_DAY, dt.time(hour, minute))


def walk_in(city: factories.City) -> QueueTicket:
    return issue_ticket(site=city.site, procedure=city.renewal, actor=KIOSK)


def counter(city: factories.City, n: int = 0) -> Counter:
    return Counter.objects.filter(site=city.site).order_by("name")[n]


def snapshot(ticket: QueueTicket) -> dict[str, Any]:
    row = QueueTicket.objects.filter(pk=ticket.pk).values().get()
    return dict(row)


# --- booked visitors: early window and late grace ---------------------------------------------


@pytest.mark.parametrize(
    ("check_in", "priority"),
    [
        ("9:30", TicketPriority.APPOINTMENT),  # early: keeps the booking (called at its time)
        ("10:05", TicketPriority.APPOINTMENT),  # exactly at the 5-minute grace
        ("10:06", TicketPriority.WALK_IN),  # later: joins the walk-in order
    ],
)
def test_the_late_grace_decides_at_check_in_whether_a_booking_still_counts(
    city: factories.City, frozen: Any, check_in: str, priority: int
) -> None:
    booked = factories.book_card_pickup(city, "10:00")
    frozen.move_to(at(check_in))
    ticket = check_in_booked_visitor(code=booked.code, actor=CLERK)
    assert ticket.priority == priority
    assert ticket.appointment_at == at("10:00")
    assert ticket.channel == TicketChannel.CHECK_IN


def test_a_late_booked_visitor_is_called_after_the_walk_ins_who_came_before_them(
    city: factories.City, frozen: Any
) -> None:
    booked = factories.book_card_pickup(city, "10:00")
    frozen.move_to(at("10:02"))
    first = walk_in(city)
    frozen.move_to(at("10:10"))
    late = check_in_booked_visitor(code=booked.code, actor=CLERK)
    frozen.move_to(at("10:11"))
    after = walk_in(city)
    called = [call_next_ticket(site=city.site, counter=counter(city), actor=CLERK)]
    QueueTicket.objects.filter(pk=first.pk).update(status=TicketStatus.DONE)
    called.append(call_next_ticket(site=city.site, counter=counter(city), actor=CLERK))
    assert [t.pk for t in called if t] == [first.pk, late.pk]
    assert after.pk not in [t.pk for t in called if t]


def test_a_configured_window_moves_the_moment_a_booking_goes_first(
    city: factories.City, frozen: Any
) -> None:
    QueueSettings.objects.create(site=city.site, early_minutes=30, late_grace_minutes=0)
    booked = factories.book_card_pickup(city, "10:00")
    frozen.move_to(at("9:25"))
    walk = walk_in(city)
    appointment = check_in_booked_visitor(code=booked.code, actor=CLERK)
    assert ticket_view(appointment).position == 2  # 9:25: too early even for 30 minutes
    frozen.move_to(at("9:30"))
    assert ticket_view(appointment).position == 1
    assert ticket_view(walk).position == 2
    called = call_next_ticket(site=city.site, counter=counter(city), actor=CLERK)
    assert called is not None and called.pk == appointment.pk


def test_the_database_order_and_the_python_order_agree(city: factories.City, frozen: Any) -> None:
    times = ["09:00", "09:30", "10:00", "10:30", "11:00"]
    bookings = [factories.book_card_pickup(city, t, n=i) for i, t in enumerate(times)]
    frozen.move_to(at("9:20"))
    for i, booking in enumerate(bookings):
        if i % 2 == 0:
            walk_in(city)
        check_in_booked_visitor(code=booking.code, actor=CLERK)
        frozen.shift(dt.timedelta(minutes=7))
    now = clock.now()
    early = QueueSettings.defaults_for(city.site).early_minutes
    waiting = QueueTicket.objects.filter(site=city.site, status=TicketStatus.WAITING)
    in_python = sorted(waiting, key=lambda t: order_key(t, now=now, early_minutes=early))
    in_sql = list(call_order(waiting, now=now, early_minutes=early))
    assert [t.pk for t in in_sql] == [t.pk for t in in_python]
    assert len({order_key(t, now=now, early_minutes=early)[0] for t in in_python}) == 3


# --- skills ------------------------------------------------------------------------------------


@pytest.mark.frozen_at(HALL_NOW)
def test_card_work_is_called_only_to_a_counter_with_a_terminal(hall: Hall, frozen: Any) -> None:
    hall.cert_renewal.needs_terminal = False
    hall.cert_renewal.save()
    hall.counter_1.has_terminal = False
    hall.counter_1.save()
    card = issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=KIOSK)
    cert = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)

    first = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert first is not None and first.pk == cert.pk  # skips the earlier card ticket
    second = call_next_ticket(site=hall.site, counter=hall.counter_2, actor=CLERK)
    assert second is not None and second.pk == card.pk


@pytest.mark.frozen_at(HALL_NOW)
def test_a_counter_limited_to_some_procedures_calls_only_those(hall: Hall, frozen: Any) -> None:
    hall.counter_1.procedures.set([hall.card_pickup])
    cert = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    assert call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK) is None
    assert snapshot(cert)["status"] == TicketStatus.WAITING
    card = issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=KIOSK)
    called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert called is not None and called.pk == card.pk


# --- recall → no-show -------------------------------------------------------------------------


@pytest.mark.frozen_at(HALL_NOW)
def test_recalls_up_to_the_limit_then_the_next_recall_is_a_no_show(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    QueueSettings.objects.create(site=hall.site, recalls_before_no_show=2)
    ticket = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    frozen.move_to(jst(10, 2))
    first = recall_ticket(ticket=ticket, actor=CLERK)
    assert (first.status, first.recall_count, first.recalled_at) == (
        TicketStatus.CALLED,
        1,
        jst(10, 2),
    )
    assert first.called_at == jst(10)  # the wait is measured to the first call
    second = recall_ticket(ticket=ticket, actor=CLERK)
    assert (second.status, second.recall_count) == (TicketStatus.CALLED, 2)
    third = recall_ticket(ticket=ticket, actor=CLERK)
    assert third.status == TicketStatus.NO_SHOW
    actions = list(
        AuditEvent.objects.filter(subject_id=str(ticket.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "ticket.issued",
        "ticket.called",
        "ticket.recalled",
        "ticket.recalled",
        "ticket.no_show",
    ]
    # The counter is free again.
    nxt = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert called is not None and called.pk == nxt.pk


@pytest.mark.frozen_at(HALL_NOW)
@pytest.mark.parametrize("end", ["done", "waiting", "serving"])
def test_a_recall_of_a_ticket_not_being_called_is_refused_and_changes_nothing(
    hall: Hall, frozen: Any, end: str
) -> None:
    ticket = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    if end != "waiting":
        call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
        start_serving(ticket=ticket, actor=CLERK)
    if end == "done":
        finish_ticket(ticket=ticket, actor=CLERK)
    before, events = snapshot(ticket), AuditEvent.objects.count()
    with pytest.raises(DomainError) as refused:
        recall_ticket(ticket=ticket, actor=CLERK)
    assert refused.value.code == ("ticket_finished" if end == "done" else "not_called")
    assert "1番" in refused.value.message and "再呼出" in refused.value.message
    assert snapshot(ticket) == before
    assert AuditEvent.objects.count() == events


# --- transfer keeping the place ----------------------------------------------------------------


@pytest.mark.frozen_at(HALL_NOW)
def test_a_transfer_to_another_procedure_keeps_the_place(hall: Hall, frozen: Any) -> None:
    first, second, third = (
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK) for _ in range(3)
    )
    moved = transfer_ticket(ticket=second, actor=CLERK, procedure=hall.card_pickup)
    assert (moved.procedure_id, moved.number, moved.status) == (
        hall.card_pickup.pk,
        2,
        TicketStatus.WAITING,
    )
    assert [t.pk for t in queue_state(hall.site).waiting] == [first.pk, second.pk, third.pk]
    assert ticket_view(moved).position == 2
    event = AuditEvent.objects.get(subject_id=str(second.pk), action="ticket.transferred")
    assert (event.before["procedure"], event.after["procedure"]) == (
        hall.cert_renewal.pk,
        hall.card_pickup.pk,
    )


@pytest.mark.frozen_at(HALL_NOW)
def test_a_visitor_sent_to_another_counter_is_called_there_first_and_nowhere_else(
    hall: Hall, frozen: Any
) -> None:
    third_counter = Counter.objects.create(site=hall.site, name="3番窓口")
    served = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    others = [issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)]
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    start_serving(ticket=served, actor=CLERK)
    call_next_ticket(site=hall.site, counter=hall.counter_2, actor=CLERK)  # others[0]
    others.append(issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK))

    moved = transfer_ticket(ticket=served, actor=CLERK, counter=third_counter)
    assert (moved.status, moved.counter_id, moved.transfer_counter_id) == (
        TicketStatus.WAITING,
        None,
        third_counter.pk,
    )
    # Counter 1 (now free) does not take them: they are on their way to counter 3.
    at_one = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert at_one is not None and at_one.pk == others[1].pk
    at_three = call_next_ticket(site=hall.site, counter=third_counter, actor=CLERK)
    assert at_three is not None and at_three.pk == served.pk
    assert at_three.transfer_counter_id is None
    assert at_three.called_at == jst(10) and at_three.served_at == jst(10)


@pytest.mark.frozen_at(HALL_NOW)
def test_a_transfer_to_a_counter_that_cannot_serve_the_procedure_is_refused(
    hall: Hall, frozen: Any
) -> None:
    hall.counter_2.has_terminal = False
    hall.counter_2.save()
    ticket = issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=KIOSK)
    before = snapshot(ticket)
    with pytest.raises(DomainError) as refused:
        transfer_ticket(ticket=ticket, actor=CLERK, counter=hall.counter_2)
    assert refused.value.code == "counter_cannot_serve"
    assert snapshot(ticket) == before


@pytest.mark.frozen_at(HALL_NOW)
@pytest.mark.parametrize("end", ["done", "no_show", "cancelled"])
def test_a_transfer_of_a_finished_ticket_is_refused_and_changes_nothing(
    hall: Hall, frozen: Any, end: str
) -> None:
    ticket = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    QueueTicket.objects.filter(pk=ticket.pk).update(status=end, counter=hall.counter_1)
    before, events = snapshot(ticket), AuditEvent.objects.count()
    with pytest.raises(DomainError) as refused:
        transfer_ticket(ticket=ticket, actor=CLERK, procedure=hall.card_pickup)
    assert (refused.value.code, refused.value.status) == ("ticket_finished", 409)
    assert "回付できません" in refused.value.message
    assert snapshot(ticket) == before
    assert AuditEvent.objects.count() == events


# --- prefixes ----------------------------------------------------------------------------------


@pytest.mark.frozen_at(HALL_NOW)
def test_each_prefix_group_numbers_gap_free_on_its_own(hall: Hall, frozen: Any) -> None:
    QueuePrefix.objects.create(site=hall.site, procedure=hall.card_pickup, prefix="A")
    QueuePrefix.objects.create(site=hall.site, procedure=hall.cert_renewal, prefix="B")
    order = [hall.card_pickup, hall.cert_renewal, hall.card_pickup, hall.card_pickup]
    labels = [issue_ticket(site=hall.site, procedure=p, actor=KIOSK).label for p in order]
    assert labels == ["A1", "B1", "A2", "A3"]
    # Walk-ins are still called in the order they came, across the groups.
    called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert called is not None and called.label == "A1"
    called = call_next_ticket(site=hall.site, counter=hall.counter_2, actor=CLERK)
    assert called is not None and called.label == "B1"


@pytest.mark.frozen_at(HALL_NOW)
def test_a_procedure_without_a_prefix_numbers_plainly(hall: Hall, frozen: Any) -> None:
    QueuePrefix.objects.create(site=hall.site, procedure=hall.card_pickup, prefix="A")
    labels = [
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK).label
        for _ in range(2)
    ]
    assert labels == ["1", "2"]


# --- the estimate each ticket was given ---------------------------------------------------------


@pytest.mark.frozen_at(HALL_NOW)
def test_each_ticket_stores_the_estimate_it_was_given(hall: Hall, frozen: Any) -> None:
    tickets = [
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK) for _ in range(4)
    ]
    # Two counters, 10-minute services: 0, 0, 10, 10 minutes.
    assert [t.estimated_wait_minutes for t in tickets] == [0, 0, 10, 10]
    stored = QueueTicket.objects.order_by("number").values_list("estimated_wait_minutes", flat=True)
    assert list(stored) == [0, 0, 10, 10]
    event = AuditEvent.objects.get(subject_id=str(tickets[3].pk), action="ticket.issued")
    assert event.after["estimated_wait_minutes"] == 10
