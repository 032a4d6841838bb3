"""Reads about cards: for booking sites, the counter console and the deadline watch."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from madoguchi.core.models import AuditEvent
from madoguchi.issuance.models import (
    BOOKABLE_STATUSES,
    PAST_BOOKING_STATUSES,
    CardRecord,
    CardStatus,
)
from madoguchi.issuance.numbers import normalize_notice_number
from madoguchi.issuance.typeset import Unprintable, unprintable

SEARCH_LIMIT = 20
BOOKING_FIELDS = ("municipality_id", "status", "notice_number", "birth_date", "reservation_code")
"""What the booking reads of a locked card; the other columns stay deferred (unread)."""


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


def lock_cards_for_booking(
    *, municipality_id: int, holders: Sequence[tuple[str, dt.date]]
) -> list[CardRecord]:
    """The cards of this municipality that (normalised notice number, birth date) pairs find
    among `BOOKABLE_STATUSES`, locked for the booking transaction in notice order (so families
    booking at once never deadlock). Fewer cards than holders: a pair found none here."""
    pairs = Q()
    for number, birth_date in holders:
        pairs |= Q(notice_number=number, birth_date=birth_date)
    return list(
        CardRecord.objects.select_for_update()
        .only(*BOOKING_FIELDS)
        .filter(pairs, municipality_id=municipality_id, status__in=BOOKABLE_STATUSES)
        .order_by("notice_number")
    )


def cards_past_booking(
    *, municipality_id: int, holders: Sequence[tuple[str, dt.date]]
) -> list[CardRecord]:
    """The cards of this municipality that (normalised notice number, birth date) pairs find
    among those a booking can no longer find — handed over, or destroyed after the deadline to
    collect: what a booking that found too few cards tells the resident (reservations)."""
    pairs = Q()
    for number, birth_date in holders:
        pairs |= Q(notice_number=number, birth_date=birth_date)
    return list(
        CardRecord.objects.only("notice_number", "status")
        .filter(pairs, municipality_id=municipality_id, status__in=PAST_BOOKING_STATUSES)
        .order_by("notice_number")
    )


def card_by_reservation(reservation_code: str) -> CardRecord | None:
    """The booked card a reservation points at (the one a hand-over hands over)."""
    if not reservation_code:
        return None
    return (
        CardRecord.objects.select_related("municipality")
        .filter(reservation_code=reservation_code, status=CardStatus.BOOKED)
        .first()
    )


def lock_card_by_reservation(reservation_code: str) -> CardRecord | None:
    """`card_by_reservation`, its row locked for the caller's transaction (only the card's:
    `of`): a hand-over checks and moves the card it read once (`services.hand_over_card` with
    `already_locked`)."""
    if not reservation_code:
        return None
    return (
        CardRecord.objects.select_related("municipality")
        .select_for_update(of=("self",))
        .filter(reservation_code=reservation_code, status=CardStatus.BOOKED)
        .first()
    )


def card_of_booking(reservation_code: str) -> CardRecord | None:
    """The card a booking was made for, whatever became of it since (booked, handed over …;
    not a card whose booking was given back): what the hand-over screen shows."""
    return (
        CardRecord.objects.filter(reservation_code=reservation_code)
        .exclude(status=CardStatus.NOTICE_ISSUED)
        .order_by("-pk")
        .first()
    )


READY_FOR_NOTICE = Q(status=CardStatus.SETUP_DONE)
"""A card ready for its notice: set up, no notice yet (also counted by `reservations.pacing`)."""


def cards_ready_for_notice(municipality_id: int) -> QuerySet[CardRecord]:
    """Set-up cards without a notice, oldest arrival first (the order notices go out in)."""
    return CardRecord.objects.filter(READY_FOR_NOTICE, municipality_id=municipality_id).order_by(
        "delivered_on", "pk"
    )


def cards_in_status(municipality_id: int, status: str) -> QuerySet[CardRecord]:
    """Cards of one municipality in one status, oldest arrival first."""
    return CardRecord.objects.filter(municipality_id=municipality_id, status=status).order_by(
        "delivered_on", "pk"
    )


def search_cards(municipality_id: int, query: str) -> list[CardRecord]:
    """Cards of one municipality whose application ID (23 digits, or its first 8 or more) or
    booking number (`K7Q-482913`, any width or case) matches `query`; at most SEARCH_LIMIT."""
    text = unicodedata.normalize("NFKC", query).strip().replace("-", "").replace(" ", "")
    if not text:
        return []
    cards = CardRecord.objects.filter(municipality_id=municipality_id)
    if text.isdigit() and len(text) >= 8:
        return list(cards.filter(application_id__startswith=text)[:SEARCH_LIMIT])
    number = normalize_notice_number(text)
    if not number:
        return []
    return list(cards.filter(notice_number=number)[:SEARCH_LIMIT])


@dataclass(frozen=True)
class Stage:
    """One step a card went through, with when it happened (a date for the arrival)."""

    label: str | Promise  # a choice label, translated when shown
    at: dt.datetime | dt.date


_HISTORY = (
    ("inspected_at", CardStatus.INSPECTED.label),
    ("defective_at", CardStatus.DEFECTIVE.label),
    ("returned_at", CardStatus.RETURNED_TO_JLIS.label),
    ("setup_done_at", CardStatus.SETUP_DONE.label),
    ("first_notice_issued_at", gettext_lazy("最初の交付通知書発送")),
    ("booked_at", CardStatus.BOOKED.label),
    ("reminded_at", CardStatus.REMINDED.label),
    ("handed_over_at", CardStatus.HANDED_OVER.label),
    ("destroyed_at", CardStatus.DESTROYED.label),
)


def card_stage_history(card: CardRecord) -> list[Stage]:
    """The card's stages in the order they happened, from its stored stamps (no query)."""
    stamped: list[tuple[dt.datetime, str | Promise]] = [
        (at, label) for field, label in _HISTORY if (at := getattr(card, field)) is not None
    ]
    stamped.sort(key=lambda pair: pair[0])
    return [Stage(CardStatus.DELIVERED.label, card.delivered_on)] + [
        Stage(label, at) for at, label in stamped
    ]


def card_audit_trail(card_id: int) -> QuerySet[AuditEvent]:
    """Every audited change of one card, oldest first: who moved it, when, from → to."""
    return AuditEvent.objects.filter(
        subject_type="issuance.CardRecord", subject_id=str(card_id)
    ).order_by("id")


def unprintable_by_batch(batch_ids: Sequence[int]) -> dict[int, list[Unprintable]]:
    """For each of the batches of notices or reminder letters `batch_ids`, its cards that would
    print a 〓 (the dashboard's list of batches says so on every visit, not only right after
    the batch was made). One read of the batches' cards' names and addresses."""
    found: dict[int, list[Unprintable]] = {}
    if not batch_ids:
        return found
    cards = (
        CardRecord.objects.filter(
            Q(notice_batch_id__in=batch_ids) | Q(reminder_batch_id__in=batch_ids)
        )
        .only(
            "application_id",
            "notice_number",
            "family_name",
            "given_name",
            "family_name_kana",
            "given_name_kana",
            "address",
            "notice_batch_id",
            "reminder_batch_id",
        )
        .order_by("pk")
    )
    wanted = set(batch_ids)
    for card in cards.iterator(chunk_size=2000):
        for entry in unprintable([card]):
            for batch_id in wanted & {card.notice_batch_id, card.reminder_batch_id}:
                found.setdefault(batch_id, []).append(entry)
    return found
