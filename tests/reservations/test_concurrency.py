"""Invariant 1 under real concurrency: N threads, each on its own database connection, race for
the last K seats of a slot. Exactly K succeed, the others get 409 slot_full, and the slot's
counter equals its reservations. The negative control switches the conditional UPDATE off
(read, wait until every contender has read, write) and must oversell — proving these tests
can see an oversell at all.

On SQLite the IMMEDIATE transactions serialise the writers (the test proves the guard holds
there too); the control needs PostgreSQL's real parallelism, so it is marked `postgres`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connections

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation, ReservationStatus, Slot
from madoguchi.reservations.services import book_reservation
from tests.reservations import factories
from tests.reservations.factories import pickup, renewal

pytestmark = pytest.mark.usefixtures("frozen", "booking_path")


def _person(n: int) -> Any:
    # distinct katakana given names (ァ U+30A1 onwards), one person per thread
    given = chr(0x30A1 + n % 80) + chr(0x30A1 + n // 80)
    return renewal(given=given, email=f"p{n}@example.jp")


def _pickup(n: int) -> Any:
    return pickup(notice=f"RCE{n:06d}")


def _together(attempts: list[Callable[[], Any]]) -> list[Any]:
    """Run every attempt on its own thread and database connection, all released at the same
    instant; each attempt's result, or for a refusal "<status> <code>", for anything else
    "crash <type>: <error>" (reported in the assertions, never swallowed)."""
    results: list[Any] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(attempts))

    def run(attempt: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            result = attempt()
        except DomainError as error:
            result = f"{error.status} {error.code}"
        except Exception as error:
            result = f"crash {type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _outcomes(results: list[Any]) -> Counter[str]:
    return Counter(r if isinstance(r, str) else "booked" for r in results)


HOLD_AT_MOST_SECONDS = 120
"""Only a broken control waits this long (a contender that never read); it then crashes with
`BrokenBarrierError`, which the assertion shows."""


def _race(slot: Slot, people: range, *, applicant: Any = _person) -> Counter[str]:
    return _outcomes(
        _together(
            [
                partial(
                    book_reservation,
                    slot_id=slot.pk,
                    procedure_code=slot.procedure.code,
                    applicant=applicant(n),
                    actor=Actor.resident(),
                )
                for n in people
            ]
        )
    )


def _seats_taken(slot: Slot) -> int:
    return Reservation.objects.filter(slot=slot).exclude(status=ReservationStatus.CANCELLED).count()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("free_seats", "contenders"), [(3, 16), (1, 12)])
def test_parallel_bookings_for_the_last_seats_never_oversell(
    main_office: Any, cert_renewal: Any, free_seats: int, contenders: int
) -> None:
    capacity = 8
    slot = factories.slot(main_office, cert_renewal, capacity=capacity)
    already = capacity - free_seats
    for n in range(100, 100 + already):  # the earlier bookings, made one by one
        book_reservation(
            slot_id=slot.pk,
            procedure_code="cert_renewal",
            applicant=_person(n),
            actor=Actor.resident(),
        )

    outcomes = _race(slot, range(contenders))

    assert outcomes == Counter({"booked": free_seats, "409 slot_full": contenders - free_seats})
    slot.refresh_from_db()
    assert slot.booked == slot.capacity == _seats_taken(slot)


@pytest.mark.django_db(transaction=True)
def test_parallel_card_pickups_for_the_last_seats_never_oversell(
    municipality: Any, main_office: Any, card_pickup: Any
) -> None:
    """The card path: each contender's card row locked first (BEGIN travels with that
    statement on PostgreSQL), then the guarded writes with COMMIT. Losers keep their card."""
    slot = factories.slot(main_office, card_pickup, capacity=3)
    for n in range(12):
        factories.card(municipality, f"RCE{n:06d}")
    factories.card(municipality, "RCE000099")
    book_reservation(  # one seat taken before the race
        slot_id=slot.pk, procedure_code="card_pickup", applicant=_pickup(99), actor=Actor.resident()
    )

    outcomes = _race(slot, range(12), applicant=_pickup)

    assert outcomes == Counter({"booked": 2, "409 slot_full": 10})
    slot.refresh_from_db()
    assert slot.booked == slot.capacity == _seats_taken(slot)
    booked = CardRecord.objects.filter(status=CardStatus.BOOKED)
    assert booked.count() == 3
    assert set(booked.values_list("reservation_code", flat=True)) == set(
        Reservation.objects.filter(slot=slot).values_list("code", flat=True)
    )
    assert AuditEvent.objects.filter(action="card.book").count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_negative_control_without_the_conditional_update_the_slot_oversells(
    main_office: Any, cert_renewal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-then-write (the guard switched off) loses updates: more reservations than seats.

    This test passes when the oversell HAPPENS: it shows the race is real and that the
    concurrency test above would catch a broken guard. Every contender reads the free seats
    before any writes (each is held between its read and its write until all have read), so
    all ten book and the counter says one — on every run, whatever the machine's load.
    """
    slot = factories.slot(main_office, cert_renewal, capacity=3)
    contenders = 10
    everyone_read = threading.Barrier(contenders)
    monkeypatch.setattr(services, "READ_THEN_WRITE_FOR_THE_NEGATIVE_CONTROL", True)
    monkeypatch.setattr(  # a broken barrier is a crash the assertion below names
        services,
        "between_read_and_write",
        lambda _slot_id: everyone_read.wait(timeout=HOLD_AT_MOST_SECONDS),
    )

    outcomes = _race(slot, range(contenders))

    slot.refresh_from_db()
    taken = _seats_taken(slot)
    assert outcomes == Counter({"booked": contenders}), outcomes
    assert taken == contenders > slot.capacity  # an oversell in reality …
    assert slot.booked == 1  # … that the lost-update counter does not even show


def _submit_together(slot: Slot, applicant: Any, times: int) -> list[str]:
    """The same booking submitted `times` times at the same instant; the codes answered."""
    book = partial(
        book_reservation,
        slot_id=slot.pk,
        procedure_code=slot.procedure.code,
        applicant=applicant,
        actor=Actor.resident(),
    )
    return [r.code for r in _together([book] * times) if isinstance(r, Reservation)]


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_racing_itself_books_once(main_office: Any, cert_renewal: Any) -> None:
    """Eight identical submissions at the same instant (a resident tapping 予約する repeatedly):
    one reservation, one seat, and every submission answers with that same reservation."""
    slot = factories.slot(main_office, cert_renewal, capacity=5)

    codes = _submit_together(slot, _person(1), 8)

    slot.refresh_from_db()
    assert len(codes) == 8 and len(set(codes)) == 1
    assert slot.booked == 1 == _seats_taken(slot)


@pytest.mark.django_db(transaction=True)
def test_a_card_pickup_double_submit_racing_itself_books_once(
    municipality: Any, main_office: Any, card_pickup: Any
) -> None:
    """The same notice number submitted six times at once: the card lock serialises them, one
    reservation is made and every submission answers with it."""
    slot = factories.slot(main_office, card_pickup, capacity=5)
    factories.card(municipality, "RCE000001")

    codes = _submit_together(slot, _pickup(1), 6)

    slot.refresh_from_db()
    assert len(codes) == 6 and len(set(codes)) == 1
    assert slot.booked == 1 == _seats_taken(slot)
    card = CardRecord.objects.get(notice_number="RCE000001")
    assert (card.status, card.reservation_code) == (CardStatus.BOOKED, codes[0])


@pytest.mark.django_db(transaction=True)
def test_families_sharing_members_race_and_exactly_one_books(
    municipality: Any, main_office: Any, card_pickup: Any
) -> None:
    """Two families name the same two children, typed in opposite order, and submit at once,
    four times over: each time one family books and the other is told the children are booked
    already (409 `already_booked`); each shared card is booked exactly once, nothing crashes.

    The booking's statement locks cards `ORDER BY notice_number`, so groups cannot deadlock.
    No control shows a deadlock without it: PostgreSQL's index scan on the unique notice
    number returns the rows in that order anyway (tried: the test passes without the ORDER BY
    too) — the ORDER BY makes the order a guarantee rather than a property of the plan."""
    for n in range(1, 17):
        factories.card(municipality, f"RCE{n:06d}")
    for round_ in range(4):
        slot = factories.slot(main_office, card_pickup, capacity=10, time=f"{10 + round_}:00")
        a, b, c, d = (_pickup(4 * round_ + n) for n in range(1, 5))
        families = [[a, b, c], [d, c, b]]  # b and c in both, in opposite order
        outcomes = _race_groups(slot, families)

        assert outcomes == Counter({"booked": 1, "409 already_booked": 1}), outcomes
        slot.refresh_from_db()
        assert slot.booked == 3 == _seats_taken(slot)
        for shared in (b, c):
            card = CardRecord.objects.get(notice_number=shared.notice_number)
            assert card.status == CardStatus.BOOKED
            assert Reservation.objects.filter(notice_number=shared.notice_number).count() == 1


def _race_groups(slot: Slot, groups: list[list[Any]]) -> Counter[str]:
    """Each group booked together, all groups submitted at the same instant."""
    from madoguchi.reservations.services import book_group_reservation

    return _outcomes(
        _together(
            [
                partial(
                    book_group_reservation,
                    slot_id=slot.pk,
                    procedure_code=slot.procedure.code,
                    applicants=group,
                    actor=Actor.resident(),
                )
                for group in groups
            ]
        )
    )
