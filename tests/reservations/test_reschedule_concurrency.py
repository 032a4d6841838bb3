"""Two residents move at the same moment, each into the other's slot (PostgreSQL, a thread and a
connection each): both moves succeed and every slot's count equals its reservations. The
negative control leaves the two slot rows unlocked until their updates and must deadlock —
proving the test can see one at all. Between its claim and its release each move waits until the
other has claimed too (never past a bound): in the control both then hold one row each, whatever
the machine's load; with the rows locked in order the second cannot claim before the first
commits, so the first waits out its bound and goes on."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation, ReservationStatus, Slot
from madoguchi.reservations.services import book_reservation, reschedule_reservation
from tests.reservations import factories
from tests.reservations.factories import renewal

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen"),
]


def _swap(first: Reservation, second: Reservation, *, unordered: bool) -> list[str]:
    start = threading.Barrier(2)
    claimed = (threading.Event(), threading.Event())
    # In the control both moves claim (nothing holds them back), so the wait ends when the other
    # has; in order, the other cannot claim before this one commits, so the wait is its bound.
    bound = 30 if unordered else 1
    results: list[str] = []
    me = {first.code: 0, second.code: 1}

    def between_seats(reservation: Reservation) -> None:
        claimed[me[reservation.code]].set()
        claimed[1 - me[reservation.code]].wait(timeout=bound)

    def move(code: str, slot_id: int) -> None:
        try:
            start.wait(timeout=30)
            reschedule_reservation(code=code, slot_id=slot_id, actor=Actor.resident())
            results.append("moved")
        except DomainError as error:
            results.append(error.code)
        except Exception as error:  # reported in the assertion, never swallowed
            results.append(f"crash {type(error.__cause__ or error).__name__}")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=move, args=(first.code, second.slot_id)),
        threading.Thread(target=move, args=(second.code, first.slot_id)),
    ]
    with pytest.MonkeyPatch.context() as patch:  # the service's seams
        patch.setattr(services, "between_seats", between_seats)
        patch.setattr(services, "UNORDERED_FOR_THE_NEGATIVE_CONTROL", unordered)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return sorted(results)


def _two_bookings(main_office: Any, cert_renewal: Any) -> tuple[Reservation, Reservation]:
    ten = factories.slot(main_office, cert_renewal, time="10:00", capacity=2)
    eleven = factories.slot(main_office, cert_renewal, time="11:00", capacity=2)
    booked = [
        book_reservation(
            slot_id=slot.pk,
            procedure_code="cert_renewal",
            applicant=renewal(given=given, email=f"{n}@example.jp"),
            actor=Actor.resident(),
        )
        for n, (slot, given) in enumerate(((ten, "ハナコ"), (eleven, "タロウ")))
    ]
    return booked[0], booked[1]


def _counts_match() -> bool:
    live = Reservation.objects.exclude(status=ReservationStatus.CANCELLED)
    return all(s.booked == live.filter(slot=s).count() for s in Slot.objects.all())


def test_two_residents_swapping_slots_at_once_both_move(
    main_office: Any, cert_renewal: Any
) -> None:
    first, second = _two_bookings(main_office, cert_renewal)
    slots = (first.slot_id, second.slot_id)
    assert _swap(first, second, unordered=False) == ["moved", "moved"]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.slot_id, first.slot_id) == slots
    assert _counts_match()


def test_negative_control_unordered_locks_deadlock(main_office: Any, cert_renewal: Any) -> None:
    first, second = _two_bookings(main_office, cert_renewal)
    outcomes = _swap(first, second, unordered=True)
    assert outcomes == ["crash DeadlockDetected", "moved"], outcomes
    assert _counts_match()  # the failed move was rolled back whole
