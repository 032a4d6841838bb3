"""Walk-in tickets: numbering, the transition table, calling order, and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.core.audit import Actor, verify_audit_chain
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.offices.models import Counter
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.selectors import ticket_view
from madoguchi.walkins.services import (
    TICKET_TRANSITIONS,
    call_next_ticket,
    cancel_ticket,
    finish_ticket,
    issue_ticket,
    mark_ticket_no_show,
    start_serving,
)
from tests.frozen_clock import HALL_NOW
from tests.walkins.conftest import Hall, jst, make_hall

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(HALL_NOW),
    pytest.mark.usefixtures("frozen"),
]

KIOSK = Actor.resident("kiosk")
CLERK = Actor("staff:1:clerk")


def issue(hall: Hall, n: int = 1) -> list[QueueTicket]:
    return [
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK) for _ in range(n)
    ]


def test_numbers_start_at_one_and_run_without_gaps(hall: Hall) -> None:
    assert [t.number for t in issue(hall, 4)] == [1, 2, 3, 4]


def test_each_site_has_its_own_sequence() -> None:
    main, branch = make_hall("本庁舎"), make_hall("北支所")
    issue(main, 3)
    assert [t.number for t in issue(branch, 2)] == [1, 2]


def test_the_sequence_starts_again_on_the_next_business_day(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    issue(hall, 3)
    frozen.move_to(jst(9, day=dt.date(2025, 6, 11)))
    (ticket,) = issue(hall)
    assert (ticket.number, ticket.business_day) == (1, dt.date(2025, 6, 11))


def test_a_new_ticket_waits_and_carries_an_unguessable_token(hall: Hall) -> None:
    first, second = issue(hall, 2)
    assert first.status == TicketStatus.WAITING
    assert first.issued_at == jst(10)
    assert len(first.token) >= 24 and first.token != second.token


def test_a_ticket_reads_its_sites_calendar_once_for_the_check_and_its_wait(hall: Hall) -> None:
    """The calendar read to check the site takes tickets now gives the new ticket's wait too
    (the queue snapshot's planned counters read it again: two reads of the site's sessions,
    closures and special openings), and the wait is the one read afresh."""
    issue(hall, 3)
    with CaptureQueriesContext(connection) as statements:
        (ticket,) = issue(hall)
    reads = [q["sql"] for q in statements.captured_queries]
    for table in ("offices_openingsession", "offices_closure", "offices_specialopening"):
        assert sum(f'FROM "{table}"' in sql for sql in reads) == 1, (table, reads)
    again = ticket_view(QueueTicket.objects.get(pk=ticket.pk)).estimated_wait_minutes
    assert ticket.estimated_wait_minutes == again
    assert again is not None and again > 0  # the control: three visitors are ahead


def test_serving_and_finishing_read_the_ticket_once(hall: Hall) -> None:
    """Starting and ending service read the ticket once each, locked (finishing read it locked
    twice, starting read its service start apart and then the locked row), and the service
    counts from its start."""
    issue(hall)
    called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert called is not None
    for move in (start_serving, finish_ticket):
        with CaptureQueriesContext(connection) as statements:
            after = move(ticket=called, actor=CLERK)
        reads = [q["sql"] for q in statements.captured_queries]
        assert (
            sum(sql.startswith("SELECT") and 'FROM "walkins_queueticket"' in sql for sql in reads)
            == 1
        ), (move, reads)
        assert after.served_at == jst(10)
    assert after.status == TicketStatus.DONE


def test_calling_reads_the_next_ticket_once(hall: Hall) -> None:
    """The next ticket is read once, locked, as the queue's order picks it (it was then read
    again by its id, locked again)."""
    first, _second = issue(hall, 2)
    with CaptureQueriesContext(connection) as statements:
        called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert called is not None and called.pk == first.pk
    assert called.status == TicketStatus.CALLED and called.counter_id == hall.counter_1.pk
    by_id = 'FROM "walkins_queueticket" WHERE "walkins_queueticket"."id" = '
    reads = [q["sql"] for q in statements.captured_queries]
    assert not [sql for sql in reads if sql.startswith("SELECT") and by_id in sql], reads


def test_tickets_are_refused_after_the_last_opening_period(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(jst(17, 15))
    with pytest.raises(DomainError) as refused:
        issue(hall)
    assert (refused.value.code, refused.value.status) == ("site_closed", 409)


def test_tickets_can_be_taken_before_opening_on_an_open_day(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(jst(8, 0))
    assert issue(hall)[0].number == 1


def test_tickets_are_refused_on_a_closed_day(hall: Hall, frozen: time_machine.Traveller) -> None:
    frozen.move_to(jst(10, day=dt.date(2025, 6, 14)))  # Saturday
    with pytest.raises(DomainError, match="受付をしていません"):
        issue(hall)


def test_tickets_are_refused_for_a_procedure_the_site_does_not_offer(hall: Hall) -> None:
    hall.site.procedures.remove(hall.card_pickup)
    with pytest.raises(DomainError) as refused:
        issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=KIOSK)
    assert (refused.value.code, refused.value.status) == ("procedure_not_offered", 422)


def test_the_transition_table_allows_exactly_the_documented_moves() -> None:
    assert {state: set(targets) for state, targets in TICKET_TRANSITIONS.items()} == {
        "waiting": {"called", "cancelled"},
        "called": {"serving", "no_show", "cancelled", "waiting"},  # waiting: transferred
        "serving": {"done", "waiting"},
        "done": set(),
        "no_show": set(),
        "cancelled": set(),
    }


def test_a_visit_goes_waiting_called_serving_done_with_timestamps(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    (ticket,) = issue(hall)
    called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert called is not None and called.pk == ticket.pk
    assert (called.status, called.counter, called.called_at) == ("called", hall.counter_1, jst(10))
    frozen.move_to(jst(10, 2))
    serving = start_serving(ticket=called, actor=CLERK)
    assert (serving.status, serving.served_at) == ("serving", jst(10, 2))
    frozen.move_to(jst(10, 12))
    done = finish_ticket(ticket=serving, actor=CLERK)
    assert (done.status, done.finished_at) == ("done", jst(10, 12))


def test_the_longest_waiting_ticket_is_called_first_and_never_twice(hall: Hall) -> None:
    issue(hall, 3)
    first = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    second = call_next_ticket(site=hall.site, counter=hall.counter_2, actor=CLERK)
    assert first is not None and second is not None
    assert (first.number, second.number) == (1, 2)


def test_calling_with_nobody_waiting_returns_none(hall: Hall) -> None:
    assert call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK) is None


def test_yesterdays_leftover_tickets_are_not_called(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(jst(10, day=dt.date(2025, 6, 9)))
    issue(hall)
    frozen.move_to(jst(10))
    assert call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK) is None


def test_a_visitor_left_at_a_counter_yesterday_does_not_block_it_today(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    """The nightly `close_queue_days` ends such a ticket; until it has run (or when it did not)
    the counter's next call ends it the same way (a no-show, audited), so today's queue is not
    held up by a ticket no page of today shows."""
    frozen.move_to(jst(16, day=dt.date(2025, 6, 9)))
    issue(hall)
    left = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert left is not None
    frozen.move_to(jst(10))
    (today,) = issue(hall)
    called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert called == today and called.status == TicketStatus.CALLED
    left.refresh_from_db()
    assert left.status == TicketStatus.NO_SHOW
    ended = AuditEvent.objects.filter(subject_id=str(left.pk)).latest("id")
    assert (ended.action, ended.actor) == ("ticket.no_show", CLERK.label)


def test_a_counter_with_a_visitor_cannot_call_the_next_one(hall: Hall) -> None:
    issue(hall, 2)
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    with pytest.raises(DomainError) as refused:
        call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert (refused.value.code, refused.value.status) == ("counter_busy", 409)


def test_a_counter_of_another_site_cannot_call(hall: Hall) -> None:
    other = make_hall("北支所")
    issue(hall)
    with pytest.raises(DomainError, match="この庁舎で使われていません"):
        call_next_ticket(site=hall.site, counter=other.counter_1, actor=CLERK)


def test_a_no_show_frees_the_counter_for_the_next_visitor(hall: Hall) -> None:
    issue(hall, 2)
    called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert called is not None
    assert mark_ticket_no_show(ticket=called, actor=CLERK).status == "no_show"
    following = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert following is not None and following.number == 2


def test_a_waiting_ticket_can_be_cancelled_and_is_then_skipped(hall: Hall) -> None:
    first, _ = issue(hall, 2)
    assert cancel_ticket(ticket=first, actor=KIOSK).status == "cancelled"
    called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert called is not None and called.number == 2


@pytest.mark.parametrize(
    ("steps", "move"),
    [
        ([], "start_serving"),
        ([], "finish_ticket"),
        ([], "mark_ticket_no_show"),
        (["call", "serve"], "cancel_ticket"),
        (["call", "serve"], "mark_ticket_no_show"),
        (["call", "serve", "finish"], "finish_ticket"),
        (["cancel"], "cancel_ticket"),
    ],
)
def test_moves_outside_the_table_are_refused_and_change_nothing(
    hall: Hall, steps: list[str], move: str
) -> None:
    (ticket,) = issue(hall)
    for step in steps:
        if step == "call":
            call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
        elif step == "serve":
            start_serving(ticket=ticket, actor=CLERK)
        elif step == "finish":
            finish_ticket(ticket=ticket, actor=CLERK)
        elif step == "cancel":
            cancel_ticket(ticket=ticket, actor=CLERK)
    before = QueueTicket.objects.get(pk=ticket.pk)
    events = AuditEvent.objects.count()
    service = {
        "start_serving": start_serving,
        "finish_ticket": finish_ticket,
        "mark_ticket_no_show": mark_ticket_no_show,
        "cancel_ticket": cancel_ticket,
    }[move]
    with pytest.raises(DomainError) as refused:
        service(ticket=ticket, actor=CLERK)
    assert (refused.value.code, refused.value.status) == ("invalid_transition", 409)
    assert QueueTicket.objects.get(pk=ticket.pk).status == before.status
    assert AuditEvent.objects.count() == events


def test_every_change_is_audited_with_who_and_from_to(hall: Hall) -> None:
    (ticket,) = issue(hall)
    called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert called is not None
    finish_ticket(ticket=start_serving(ticket=called, actor=CLERK), actor=CLERK)
    events = list(
        AuditEvent.objects.filter(subject_type="walkins.QueueTicket", subject_id=str(ticket.pk))
    )
    assert [(e.action, e.actor) for e in events] == [
        ("ticket.issued", "resident:kiosk"),
        ("ticket.called", "staff:1:clerk"),
        ("ticket.serving", "staff:1:clerk"),
        ("ticket.done", "staff:1:clerk"),
    ]
    assert [(e.before or {}).get("status") for e in events] == [
        None,
        "waiting",
        "called",
        "serving",
    ]
    assert [e.after["status"] for e in events] == ["waiting", "called", "serving", "done"]
    assert events[1].after["counter"] == hall.counter_1.pk
    assert all(ticket.token not in str(e.after) for e in events)
    assert verify_audit_chain().intact


def test_inactive_counters_cannot_call(hall: Hall) -> None:
    Counter.objects.filter(pk=hall.counter_2.pk).update(is_active=False)
    hall.counter_2.refresh_from_db()
    issue(hall)
    with pytest.raises(DomainError):
        call_next_ticket(site=hall.site, counter=hall.counter_2, actor=CLERK)
