"""Read-only helpers for the counter console's pages (writes go through the services)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from madoguchi.core import clock
from madoguchi.core.errors import DomainError
from madoguchi.core.languages import language_for_staff
from madoguchi.issuance.models import CardRecord
from madoguchi.offices.models import ProcedureCode
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.reservations.normalize import (
    nfkc,
    normalize_kana,
    normalize_notice_number,
    normalize_reservation_code,
    refuse_individual_number,
)
from madoguchi.reservations.selectors import site_day_reservations
from madoguchi.walkins.models import QueueTicket


@dataclass(frozen=True)
class Visit:
    """One booked visit on the day view: the reservation, its queue ticket once checked in, and
    for a card pick-up the card record (whose name the counter compares with the ID)."""

    reservation: Reservation
    ticket: QueueTicket | None
    card: CardRecord | None

    @property
    def holder_name(self) -> str:
        return self.card.full_name if self.card else ""

    @property
    def holder_kana(self) -> str:
        if self.card:
            return self.card.full_name_kana
        r = self.reservation
        return f"{r.family_name_kana}　{r.given_name_kana}".strip("　")

    @property
    def language_for_staff(self) -> str:
        """The booking's language named in Japanese for the clerk (英語, ベトナム語, …), so the
        counter expects it; empty for a Japanese booking."""
        language = self.reservation.language
        return "" if language in ("", settings.LANGUAGE_CODE) else language_for_staff(language)

    @property
    def notice_number(self) -> str:
        return self.reservation.notice_number or (
            self.card.notice_number or "" if self.card else ""
        )


@dataclass(frozen=True)
class DayView:
    """One site's visits on one date, by time, with counts per reservation status (of the whole
    day, whatever the search shows)."""

    day: dt.date
    visits: list[Visit]
    counts: dict[str, int]
    query: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def reservations(self) -> list[Reservation]:
        return [v.reservation for v in self.visits]


def day_view(*, site_id: int, day: dt.date, query: str = "") -> DayView:
    """Every booking at the site on `day` with its queue ticket and card (three queries), and
    how many are in each status; with `query`, only the visits it finds (`matches`).

    Raises DomainError 422 when the query carries an Individual Number.
    """
    rows = list(
        site_day_reservations(site_id=site_id, day=day).select_related("queue_ticket__counter")
    )
    codes = [r.code for r in rows if r.procedure.code == ProcedureCode.CARD_PICKUP]
    cards = {
        c.reservation_code: c
        for c in CardRecord.objects.filter(reservation_code__in=codes).order_by("pk")
    }
    visits = [
        Visit(
            reservation=r,
            ticket=getattr(r, "queue_ticket", None),
            card=cards.get(r.code),
        )
        for r in rows
    ]
    counts = dict(Counter(r.status for r in rows))
    query = query.strip()
    if query:
        wanted = _Query.parse(query)
        visits = [v for v in visits if wanted.matches(v)]
    return DayView(day=day, visits=visits, counts=counts, query=query)


@dataclass(frozen=True)
class _Query:
    """A search typed at the counter, read every way it could be meant (the residents' forms'
    normalisers: full-width, hiragana, hyphens and spaces all accepted)."""

    code: str
    notice: str
    kana: str
    text: str

    @classmethod
    def parse(cls, query: str) -> _Query:
        refuse_individual_number(query)
        try:
            notice = normalize_notice_number(query)
        except DomainError:
            notice = ""
        try:
            kana = normalize_kana(query, field="お名前（カナ）")
        except DomainError:
            kana = ""
        return cls(
            code=normalize_reservation_code(query),
            notice=notice,
            kana=kana,
            text=_squeeze(query),
        )

    def matches(self, visit: Visit) -> bool:
        r = visit.reservation
        if self.code and r.code == self.code:
            return True
        if self.notice and visit.notice_number == self.notice:
            return True
        if self.kana and self.kana in _squeeze(visit.holder_kana):
            return True
        return bool(self.text) and self.text in _squeeze(visit.holder_name)


def _squeeze(value: str) -> str:
    return re.sub(r"\s+", "", nfkc(value))


def staff_bookable_slots(*, site_id: int, procedure_id: int, day: dt.date) -> QuerySet[Slot]:
    """Offered, not yet started slots on `day`: staff may book from today on (the service
    checks the window; this only lists)."""
    return Slot.objects.filter(
        site_id=site_id,
        procedure_id=procedure_id,
        is_offered=True,
        starts_at__gte=max(clock.at(day, dt.time(0)), clock.now()),
        starts_at__lt=clock.at(day + dt.timedelta(days=1), dt.time(0)),
    ).order_by("starts_at")
