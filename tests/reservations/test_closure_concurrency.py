"""A resident books while a manager closes that day (PostgreSQL, a thread and a connection each).

Closing a day (a closure saved in the admin) makes the site's slots match the calendar in the
manager's transaction: the day's slots are withdrawn — deleted when never booked, else closed to
new bookings with `capacity = booked` and flagged, so the manager is told to call those residents
(`reservations.slots._withdraw`, `match_slots_to_calendars`) — and a booking's seat claim refuses
a slot that is not offered or has no seat left (`services._claim_seats`). Both orders, each
brought about on purpose, never left to the threads' timing:

- the booking commits between the manager's read of the slots and the withdrawal (the seam
  `slots.between_read_and_withdraw`): the booking stays, on a slot closed to new bookings and
  flagged — named in the list the manager is shown — and nothing is half-done (the slot's count
  equals its bookings, each booking has its audit event, the closure is stored). The negative
  control flags slots from what was read before the booking (`FLAG_AS_READ_FOR_THE_NEGATIVE_
  CONTROL`): the booking then stays on the closed day unflagged and unnamed — proving the test
  sees that at all. A closure of the whole municipality (no site) goes through the same
  withdrawal site by site: a booking at its second site, held at that site's seam, is kept,
  flagged and named the same way;
- the booking comes after the withdrawal while the manager's transaction is still open: it waits
  for it (its backend seen waiting in `pg_locks`) and is then refused as a time no longer
  offered (422 `invalid_slot`), nothing written.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import QuerySet

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.offices.models import Closure, ClosureKind, Procedure, Site
from madoguchi.reservations import slots as slot_generation
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.reservations.services import book_reservation
from madoguchi.reservations.slots import match_slots_to_calendars
from tests.offices import factories as offices
from tests.reservations.factories import VISIT_DAY, renewal

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen", "booking_path"),
]

MANAGER = Actor("staff:1:manager")
HOLD_AT_MOST_SECONDS = 60
"""How long one thread waits for the other at most: only a broken test waits this long, and
then fails saying what it waited for."""


@pytest.fixture
def site(municipality: Any, cert_renewal: Procedure) -> Site:
    """A site whose slots already match its calendar, so that closing the visit day is the one
    change the manager's regeneration makes."""
    created = offices.site(municipality, weekday_hours=("09:00", "11:00"))
    created.procedures.set([cert_renewal])
    match_slots_to_calendars([created.pk], actor=MANAGER)
    return created


@pytest.fixture
def other_site(municipality: Any, cert_renewal: Procedure, site: Site) -> Site:
    """A second site of the same municipality, its slots matching its calendar too."""
    created = offices.site(
        municipality, kind="branch", name="branch site", weekday_hours=("09:00", "11:00")
    )
    created.procedures.set([cert_renewal])
    match_slots_to_calendars([created.pk], actor=MANAGER)
    return created


def _day_slots(site: Site) -> QuerySet[Slot]:
    start = slot_generation.calendar_start(VISIT_DAY)
    return Slot.objects.filter(
        site=site, starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=1)
    )


def _close_the_day(site: Site, *, everywhere: tuple[Site, ...] = ()) -> list[Slot]:
    """What the admin does when the manager saves a closure of the visit day: the closure and
    the slots made to match it, in one transaction; the slots holding bookings it names.
    `everywhere`: the municipality's sites, closed together by one closure without a site
    (the admin then matches every site of the municipality, one after the other)."""
    with transaction.atomic():
        Closure.objects.create(
            municipality=site.municipality,
            site=None if everywhere else site,
            kind=ClosureKind.OTHER,
            first_day=VISIT_DAY,
            reason="臨時休業",
        )
        return match_slots_to_calendars([s.pk for s in everywhere or (site,)], actor=MANAGER)


def _book(slot: Slot, n: int) -> Reservation:
    return book_reservation(
        slot_id=slot.pk,
        procedure_code=slot.procedure.code,
        applicant=renewal(given=chr(0x30A2 + n), email=f"p{n}@example.jp"),
        actor=Actor.resident(),
    )


class Outcome:
    """What a thread ended with: its result, or the refusal's "<status> <code>", or a crash
    (reported in the assertions, never swallowed)."""

    def __init__(self) -> None:
        self.value: Any = None

    def run(self, work: Callable[[], Any]) -> Callable[[], None]:
        def target() -> None:
            try:
                self.value = work()
            except DomainError as error:
                self.value = f"{error.status} {error.code}"
            except Exception as error:
                self.value = f"crash {type(error).__name__}: {error}"
            finally:
                connections.close_all()

        return target


@pytest.fixture
def booking_between_read_and_withdrawal(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[Site, Slot], tuple[Outcome, Outcome]]]:
    def race(site: Site, slot: Slot, everywhere: tuple[Site, ...] = ()) -> tuple[Outcome, Outcome]:
        read, booked = threading.Event(), threading.Event()

        def hold_the_manager(site_id: int) -> None:
            if site_id != slot.site_id:
                return  # another site of a municipality-wide closure: not the one booked
            read.set()
            assert booked.wait(HOLD_AT_MOST_SECONDS), "the booking never finished"

        monkeypatch.setattr(slot_generation, "between_read_and_withdraw", hold_the_manager)
        manager, resident = Outcome(), Outcome()
        closing = threading.Thread(
            target=manager.run(lambda: _close_the_day(site, everywhere=everywhere))
        )
        closing.start()

        def book_once_the_slots_were_read() -> Reservation:
            try:
                assert read.wait(HOLD_AT_MOST_SECONDS), "the manager never read the slots"
                return _book(slot, 1)
            finally:
                booked.set()

        booking = threading.Thread(target=resident.run(book_once_the_slots_were_read))
        booking.start()
        for thread in (booking, closing):
            thread.join(HOLD_AT_MOST_SECONDS)
            assert not thread.is_alive(), "a transaction never ended"
        return manager, resident

    yield race


def _first_slot(site: Site) -> Slot:
    slot = _day_slots(site).select_related("procedure").order_by("starts_at").first()
    assert slot is not None
    return slot


def test_a_booking_made_while_the_day_is_being_closed_is_kept_flagged_and_named(
    site: Site, booking_between_read_and_withdrawal: Any
) -> None:
    slot = _first_slot(site)

    manager, resident = booking_between_read_and_withdrawal(site, slot)

    assert isinstance(resident.value, Reservation), resident.value
    assert isinstance(manager.value, list), manager.value
    reservation = resident.value
    slot.refresh_from_db()
    # the booking stays, on a slot closed to new bookings and flagged …
    assert Reservation.objects.filter(slot=slot).get() == reservation
    assert (slot.is_offered, slot.capacity, slot.booked) == (False, 1, 1)
    assert slot.conflict_reason == slot_generation.CONFLICT_NOT_IN_CALENDAR
    # … named in what the manager is shown, the one slot left on the closed day
    assert [named.pk for named in manager.value] == [slot.pk]
    assert list(_day_slots(site).values_list("pk", flat=True)) == [slot.pk]
    # nothing half-done: the closure stored, the booking audited once
    assert Closure.objects.filter(site=site, first_day=VISIT_DAY).count() == 1
    booked_events = AuditEvent.objects.filter(
        action="reservation.book", subject_id=reservation.code
    )
    assert booked_events.count() == 1


def test_a_booking_made_while_every_site_is_being_closed_is_kept_flagged_and_named(
    site: Site, other_site: Site, booking_between_read_and_withdrawal: Any
) -> None:
    """A closure of the whole municipality (no site) matches its sites one after the other in
    the manager's transaction; a booking at the second site committed between that site's read
    and its withdrawal is kept, flagged and named, and both sites' day is withdrawn."""
    slot = _first_slot(other_site)
    assert _day_slots(site).exists()

    manager, resident = booking_between_read_and_withdrawal(
        site, slot, everywhere=(site, other_site)
    )

    assert isinstance(resident.value, Reservation), resident.value
    assert isinstance(manager.value, list), manager.value
    slot.refresh_from_db()
    assert (slot.is_offered, slot.capacity, slot.booked) == (False, 1, 1)
    assert slot.conflict_reason == slot_generation.CONFLICT_NOT_IN_CALENDAR
    assert [named.pk for named in manager.value] == [slot.pk]
    assert not _day_slots(site).exists()  # never booked: deleted
    assert list(_day_slots(other_site).values_list("pk", flat=True)) == [slot.pk]
    assert Closure.objects.filter(site=None, first_day=VISIT_DAY).count() == 1
    assert AuditEvent.objects.filter(action="reservation.book").count() == 1


def test_negative_control_flags_from_the_read_leave_the_booking_on_the_closed_day_unnamed(
    site: Site, booking_between_read_and_withdrawal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slot_generation, "FLAG_AS_READ_FOR_THE_NEGATIVE_CONTROL", True)
    slot = _first_slot(site)

    manager, resident = booking_between_read_and_withdrawal(site, slot)

    assert isinstance(resident.value, Reservation), resident.value
    slot.refresh_from_db()
    assert (slot.is_offered, slot.booked, slot.conflict_reason) == (False, 1, "")
    assert manager.value == []  # nobody is told to call this resident


def _booking_seen_waiting(thread: threading.Thread) -> bool:
    """Whether the booking on `thread` waits for the manager's transaction: its backend seen
    waiting for a lock (looked for until it is, or the thread ended, or the safety net's
    bound), so a booking that never waited is never taken for one that did."""
    for _ in range(HOLD_AT_MOST_SECONDS * 50):  # looks at least every 20 ms
        if not thread.is_alive():
            return False
        with connection.cursor() as cursor:
            # a row lock's waiter waits for the holder's transaction id
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'"
            )
            if cursor.fetchone()[0]:
                return thread.is_alive()
        thread.join(timeout=0.02)  # ends early if the booking ended without waiting
    return False


def test_a_booking_after_the_withdrawal_waits_for_the_closure_and_is_refused(
    site: Site,
) -> None:
    slot = _first_slot(site)
    earlier = _book(slot, 0)  # the slot holds a booking: it is kept, closed and flagged
    withdrawn, let_go = threading.Event(), threading.Event()
    manager, resident = Outcome(), Outcome()

    def close_and_hold() -> list[Slot]:
        with transaction.atomic():
            named = _close_the_day(site)
            withdrawn.set()
            assert let_go.wait(HOLD_AT_MOST_SECONDS), "the booking was never seen waiting"
        return named

    def book_once_withdrawn() -> Reservation:
        assert withdrawn.wait(HOLD_AT_MOST_SECONDS), "the manager never withdrew the slots"
        return _book(slot, 1)

    closing = threading.Thread(target=manager.run(close_and_hold))
    booking = threading.Thread(target=resident.run(book_once_withdrawn))
    closing.start()
    booking.start()
    try:
        assert withdrawn.wait(HOLD_AT_MOST_SECONDS)
        waited = _booking_seen_waiting(booking)
    finally:
        let_go.set()
        closing.join(HOLD_AT_MOST_SECONDS)
        booking.join(HOLD_AT_MOST_SECONDS)

    assert waited, resident.value
    assert resident.value == "422 invalid_slot"  # この枠は現在予約を受け付けていません。
    assert [named.pk for named in manager.value] == [slot.pk]
    slot.refresh_from_db()
    assert (slot.is_offered, slot.capacity, slot.booked) == (False, 1, 1)
    assert list(Reservation.objects.values_list("code", flat=True)) == [earlier.code]
    assert AuditEvent.objects.filter(action="reservation.book").count() == 1
