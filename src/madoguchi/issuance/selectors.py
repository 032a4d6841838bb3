"""Reads about cards: for booking sites, the counter console and the deadline watch."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from madoguchi.issuance.models import BOOKABLE_STATUSES, CardRecord, CardStatus
from madoguchi.issuance.numbers import normalize_notice_number


def find_card_for_booking(*, notice_number: str, birth_date: dt.date) -> CardRecord | None:
    """The card behind a booking number typed by a resident, if the birth date matches.

    The number is normalised first (`k7q-482913`, full-width, spaces: all accepted). Only cards
    waiting for or holding a booking are found (notice_issued, reminded, booked); anything else
    — unknown number, wrong birth date, card handed over — is None, so callers can answer with
    one uniform message.
    """
    number = normalize_notice_number(notice_number)
    if not number:
        return None
    return (
        CardRecord.objects.select_related("municipality")
        .filter(notice_number=number, birth_date=birth_date, status__in=BOOKABLE_STATUSES)
        .first()
    )


def card_by_reservation(reservation_code: str) -> CardRecord | None:
    """The booked card a reservation points at (for the counter console's hand-over)."""
    if not reservation_code:
        return None
    return (
        CardRecord.objects.select_related("municipality")
        .filter(reservation_code=reservation_code, status=CardStatus.BOOKED)
        .first()
    )


def cards_ready_for_notice(municipality_id: int) -> QuerySet[CardRecord]:
    """Set-up cards without a notice, oldest arrival first (the order notices go out in)."""
    return CardRecord.objects.filter(
        municipality_id=municipality_id, status=CardStatus.SETUP_DONE
    ).order_by("delivered_on", "pk")


def cards_in_status(municipality_id: int, status: str) -> QuerySet[CardRecord]:
    """Cards of one municipality in one status, oldest arrival first."""
    return CardRecord.objects.filter(municipality_id=municipality_id, status=status).order_by(
        "delivered_on", "pk"
    )
