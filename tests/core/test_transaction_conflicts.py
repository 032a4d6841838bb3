"""A deadlock or serialization failure reaches a person as "it clashed with another action,
nothing was changed, please try again" (409 `try_again`, in the page's language, JSON under
/api/) — not as "the system is unavailable, wait 30 seconds" (decision 0035).

The deadlock is real (PostgreSQL, a thread and a connection per request): two residents move
their bookings at the same instant, each into the other's time, with the reschedule's slot rows
left unlocked until their updates (the service's negative-control seam) and each move held
between its claim and its release until the other has claimed. The control is the same race
with the rows locked in order, as in production: both move, nobody is told to try again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError, connections
from django.test import Client

from madoguchi.core.middleware import is_transaction_conflict
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation, ReservationStatus, Slot
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, birth_fields

TRY_AGAIN_EN = "nothing has been changed"


def _two_bookings() -> tuple[Reservation, Reservation]:
    city = factories.city()
    return (
        factories.book_card_pickup(city, time="10:00", n=0),
        factories.book_card_pickup(city, time="11:00", n=1),
    )


def _by_page(booking: Reservation, slot_id: int) -> Callable[[], Any]:
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    found = client.post("/lookup/", {"code": booking.code, **birth_fields(BIRTH)})
    assert found.status_code == 302, found.content.decode()[:500]
    url = f"/reservation/{booking.code}/reschedule/slot/{slot_id}/"
    return lambda: client.post(url)


def _by_api(booking: Reservation, slot_id: int) -> Callable[[], Any]:
    client = Client(raise_request_exception=False)
    body = {"birth_date": BIRTH.isoformat(), "slot_id": slot_id}
    url = f"/api/v1/reservations/{booking.code}/reschedule"
    return lambda: client.post(url, body, content_type="application/json")


def _swap_at_once(
    first: Reservation,
    second: Reservation,
    via: Callable[..., Callable[[], Any]],
    *,
    unordered: bool,
) -> list[Any]:
    """Both moves sent at the same instant; each waits after its claim until the other has
    claimed too — which, with the rows locked in order, the other cannot (then the wait is its
    bound)."""
    sends = {first.code: via(first, second.slot_id), second.code: via(second, first.slot_id)}
    me = {first.code: 0, second.code: 1}
    claimed = (threading.Event(), threading.Event())
    bound = 30 if unordered else 1
    start = threading.Barrier(2)
    answers: list[Any] = []

    def between_seats(reservation: Reservation) -> None:
        claimed[me[reservation.code]].set()
        claimed[1 - me[reservation.code]].wait(timeout=bound)

    def run(send: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=30)
            answers.append(send())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(send,)) for send in sends.values()]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "between_seats", between_seats)
        patch.setattr(services, "UNORDERED_FOR_THE_NEGATIVE_CONTROL", unordered)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
    return sorted(answers, key=lambda response: response.status_code)


def _counts_match() -> bool:
    live = Reservation.objects.exclude(status=ReservationStatus.CANCELLED)
    return all(s.booked == live.filter(slot=s).count() for s in Slot.objects.all())


@pytest.fixture
def bookings(db: None) -> Iterator[tuple[Reservation, Reservation]]:
    with frozen_at(factories.NOW, tick=True):
        yield _two_bookings()


PATHS = {"page": _by_page, "api": _by_api}
MOVED = {"page": 302, "api": 200}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", PATHS)
def test_a_deadlock_is_answered_try_again_and_nothing_is_changed(
    bookings: tuple[Reservation, Reservation], path: str
) -> None:
    first, second = bookings
    before = {r.code: r.slot_id for r in (first, second)}

    moved, refused = _swap_at_once(first, second, PATHS[path], unordered=True)

    assert moved.status_code == MOVED[path]
    assert refused.status_code == 409, refused.content.decode()[:500]
    assert "Retry-After" not in refused
    if path == "api":  # JSON, in Japanese as every API refusal without a language
        body = refused.json()
        assert body["error"] == "try_again" and "もう一度お試しください" in body["message"]
    else:  # a page in the visitor's language
        page = refused.content.decode()
        assert TRY_AGAIN_EN in page and "wait" not in page.lower()
    after = {r.code: r.slot_id for r in Reservation.objects.all()}
    # the refused move was undone whole: its booking stays where it was
    assert sum(after[code] != before[code] for code in before) == 1
    assert _counts_match()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", PATHS)
def test_control_with_the_rows_locked_in_order_both_move(
    bookings: tuple[Reservation, Reservation], path: str
) -> None:
    first, second = bookings

    answers = _swap_at_once(first, second, PATHS[path], unordered=False)

    assert [a.status_code for a in answers] == [MOVED[path]] * 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.slot_id != second.slot_id
    assert _counts_match()


def test_only_a_transaction_rollback_is_a_conflict() -> None:
    """SQLSTATE class 40 (40P01 deadlock, 40001 serialization failure) is a conflict; a refused
    connection or any other error is not."""

    class Cause(Exception):
        def __init__(self, sqlstate: str | None) -> None:
            self.sqlstate = sqlstate

    def wrapped(sqlstate: str | None) -> OperationalError:
        error = OperationalError("x")
        error.__cause__ = Cause(sqlstate)
        return error

    assert is_transaction_conflict(wrapped("40P01"))
    assert is_transaction_conflict(wrapped("40001"))
    assert not is_transaction_conflict(wrapped("08006"))  # the connection failed
    assert not is_transaction_conflict(wrapped(None))
    assert not is_transaction_conflict(OperationalError("connection refused"))
    assert not is_transaction_conflict(ValueError("40P01"))
