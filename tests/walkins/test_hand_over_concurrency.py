"""The same card handed over from two screens at the same moment (two clerks with one visit
open, or one double click) is handed over once; the other hand-over is told the visit is done.
Real PostgreSQL, real threads.

The hand-over reads the visitor's ticket and the card once each, locked, and moves them as read
(`walkins.visits.hand_over_card_at_visit`). Every hand-over waits, after both reads and before
it moves anything, for the other to reach the same point (`Meeting`). With the rows locked the
other is held at the ticket's row — its backend seen waiting for a lock, which the test asserts:
the race happened — and the hand-overs go one after the other; the negative control reads both
rows without locking them, lets both hand-overs past their checks together, and only the
one-record-per-card constraint stops the second, with an IntegrityError.

The calling page's 不在 for the same visitor at the same moment takes the ticket, the booking and
then the card (to free it); the hand-over takes the ticket first too, so the two queue at the
ticket's row and one of them ends the visit. Its negative control takes the card before the
ticket, as the hand-over did when it locked the rows as it moved them: each holds one row and
waits for the other's, and PostgreSQL ends one of them as a deadlock — a server error."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from typing import Any

import pytest
from django.db import IntegrityError, OperationalError, connection

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.issuance.models import CardHandOver, CardRecord, CardStatus
from madoguchi.issuance.selectors import card_by_reservation, lock_card_by_reservation
from madoguchi.offices.models import Counter
from madoguchi.reservations.models import Reservation
from madoguchi.reservations.services import close_checked_in_visit
from madoguchi.walkins import services, visits
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.services import (
    call_next_ticket,
    check_in_booked_visitor,
    mark_ticket_no_show,
)
from tests.conftest import site_official
from tests.resident_site import factories
from tests.resident_site.factories import VISIT_DAY
from tests.walkins.test_numbers_concurrency import WAIT_AT_MOST_SECONDS, run_together
from tests.walkins.test_visits import HOLDER_CHECKS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLERKS = 2
CLERK = Actor.system("hand-over-race")


def _called_visitor(city: factories.City, frozen: Any) -> tuple[Reservation, QueueTicket]:
    """A card pick-up, checked in on the day and called to the first counter."""
    booked = factories.book_card_pickup(city)
    frozen.move_to(clock.at(VISIT_DAY, dt.time(9, 55)))
    check_in_booked_visitor(code=booked.code, actor=CLERK)
    counter = Counter.objects.filter(site=city.site).order_by("pk").first()
    assert counter is not None
    called = call_next_ticket(site=city.site, counter=counter, actor=CLERK)
    assert called is not None
    return booked, called


class Meeting:
    """Where the two ends of one visit wait for each other after their reads, before they move
    anything: each waits until both have come, or until the other is seen held at a row lock —
    another backend of this test's database waiting for a lock (`held`): with the rows locked
    it cannot come, and the one that came goes on. Looked for at least every 20 ms; only a
    broken test waits `WAIT_AT_MOST_SECONDS` (then goes on, and the assertions fail)."""

    def __init__(self) -> None:
        self.came = 0
        self.held = False
        self._changed = threading.Condition()

    def _all_came(self) -> bool:
        return self.came >= CLERKS

    def wait(self) -> None:
        with self._changed:
            self.came += 1
            self._changed.notify_all()
        for _ in range(WAIT_AT_MOST_SECONDS * 50):
            with self._changed:
                if self._all_came():
                    return
            if _another_backend_waits_for_a_lock():
                with self._changed:
                    self.held = True
                return
            with self._changed:
                self._changed.wait_for(self._all_came, timeout=0.02)


def _another_backend_waits_for_a_lock() -> bool:
    """Whether a backend of this database other than this thread's waits for a lock (a row's:
    its holder's transaction) — pg_stat_activity names the database, so another test process's
    database on the same server is never taken for this one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _wait_after(read: Any, meeting: Meeting) -> Any:
    """`read`, then a wait for the other at `meeting`."""

    def then_wait(*args: Any, **kwargs: Any) -> Any:
        result = read(*args, **kwargs)
        meeting.wait()
        return result

    return then_wait


def _wait_before_the_first(work: Any, meeting: Meeting) -> Any:
    """For the first call only (the no-show's: the hand-over closes the booking through the same
    function, but only after the ticket it waits for is free), a wait for the other at
    `meeting`; then `work`."""
    calls = itertools.count()

    def wait_then(*args: Any, **kwargs: Any) -> Any:
        if next(calls) == 0:
            meeting.wait()
        return work(*args, **kwargs)

    return wait_then


def _hand_over(booked: Reservation, city: factories.City) -> Any:
    official = site_official(city.site, "desk")
    return lambda: visits.hand_over_card_at_visit(
        code=booked.code, actor=CLERK, staff_user=official, checks=HOLDER_CHECKS
    )


def _hand_overs_at_once(
    city: factories.City,
    frozen: Any,
    monkeypatch: pytest.MonkeyPatch,
    read_card: Any = lock_card_by_reservation,
) -> tuple[Reservation, Meeting, list[object]]:
    booked, _ = _called_visitor(city, frozen)
    meeting = Meeting()
    monkeypatch.setattr(visits, "lock_card_by_reservation", _wait_after(read_card, meeting))
    return booked, meeting, run_together(_hand_over(booked, city), threads=CLERKS)


def _hand_over_and_no_show_at_once(
    city: factories.City, frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[Reservation, Meeting, list[object]]:
    """The hand-over waits after reading the card, the calling page's 不在 after moving the
    ticket (before it closes the booking and frees the card)."""
    booked, called = _called_visitor(city, frozen)
    meeting = Meeting()
    monkeypatch.setattr(
        visits, "lock_card_by_reservation", _wait_after(lock_card_by_reservation, meeting)
    )
    monkeypatch.setattr(
        services,
        "close_checked_in_visit",
        _wait_before_the_first(close_checked_in_visit, meeting),
    )
    hand_over = _hand_over(booked, city)
    ends = iter([hand_over, lambda: mark_ticket_no_show(ticket=called, actor=CLERK)])
    pick = threading.Lock()

    def one_of_them() -> object:
        with pick:
            end = next(ends)
        return end()

    return booked, meeting, run_together(one_of_them, threads=2)


def test_one_card_handed_over_twice_at_once_is_handed_over_once(
    city: factories.City, frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    booked, meeting, results = _hand_overs_at_once(city, frozen, monkeypatch)
    assert meeting.held, "the second hand-over was never seen held at the first one's rows"
    refused = [r for r in results if isinstance(r, DomainError)]
    assert results.count(None) == 1 and [r.code for r in refused] == ["ticket_finished"], results
    card = CardRecord.objects.get(notice_number=booked.notice_number)
    assert card.status == CardStatus.HANDED_OVER
    assert CardHandOver.objects.filter(card=card).count() == 1


def test_negative_control_without_the_locked_reads_both_hand_overs_pass_their_checks(
    city: factories.City, frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        visits,
        "lock_visit_ticket",
        lambda reservation: QueueTicket.objects.filter(reservation=reservation).first(),
    )
    _, meeting, results = _hand_overs_at_once(
        city, frozen, monkeypatch, read_card=card_by_reservation
    )
    assert not meeting.held and meeting.came == CLERKS, "both came, nothing held either"
    assert any(isinstance(r, IntegrityError) for r in results), results


def test_a_hand_over_and_a_no_show_at_once_end_the_visit_once(
    city: factories.City, frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    booked, meeting, results = _hand_over_and_no_show_at_once(city, frozen, monkeypatch)
    assert meeting.held, "neither end of the visit was seen held at the other's rows"
    failed = [r for r in results if isinstance(r, Exception)]
    # one ends the visit; the other is told it has ended (409), not a server error
    assert len(failed) == 1 and isinstance(failed[0], DomainError), results
    assert failed[0].status == 409, results
    card = CardRecord.objects.get(notice_number=booked.notice_number)
    ticket = QueueTicket.objects.get(reservation=booked)
    booked.refresh_from_db()
    assert (booked.status, ticket.status, card.status) in (
        ("served", "done", CardStatus.HANDED_OVER),
        ("no_show", "no_show", CardStatus.NOTICE_ISSUED),
    )


def test_negative_control_the_card_locked_before_the_ticket_deadlocks_with_a_no_show(
    city: factories.City, frozen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the hand-over's rows in the order it locked them as it moved them: card, then ticket
    monkeypatch.setattr(
        visits,
        "lock_visit_ticket",
        lambda reservation: QueueTicket.objects.filter(reservation=reservation).first(),
    )
    _, meeting, results = _hand_over_and_no_show_at_once(city, frozen, monkeypatch)
    assert not meeting.held and meeting.came == CLERKS, "both came, each holding one row"
    deadlocked = [r for r in results if isinstance(r, OperationalError)]
    assert deadlocked and "deadlock" in str(deadlocked[0]), results
