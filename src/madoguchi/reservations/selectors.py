"""Reads about slots and reservations, shaped for the booking pages, the API and the console."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Max, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Greatest, TruncDate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from madoguchi.core import clock
from madoguchi.core.errors import DomainError
from madoguchi.core.prepared import prepared_rows
from madoguchi.issuance import numbers
from madoguchi.offices.models import Municipality, ProcedureCode, Site
from madoguchi.offices.selectors import (
    cached_for_booking,
    keep_for_booking,
    procedure_by_code,
    procedure_for_booking,
    site_for_booking,
)
from madoguchi.reservations import normalize
from madoguchi.reservations.models import ACTIVE_STATUSES, Reservation, Slot

NOT_FOUND_MESSAGE = gettext_noop(
    "入力された番号と生年月日に一致するものが見つかりません。番号と生年月日をご確認ください。"
)


def not_found() -> DomainError:
    """The one uniform 404: the same body whether the code, notice or birth date was wrong."""
    return DomainError("not_found", _(NOT_FOUND_MESSAGE), status=404)


DAY_SLOTS_KEPT = 500
"""At most this many of a slot's day's other times are kept with it (`_read_slot`)."""


def _read_slot(slot_id: int) -> Slot | None:
    """The slot; with the reference cache on, the other times of its day at the same site and
    for the same procedure are read in a second statement and kept too — a rush asks for many
    times of the same few days, each of them otherwise a read of its own every reference
    period."""
    if not 0 < slot_id < 2**63:
        return None
    # order_by("pk"): `first()` would otherwise order by Meta.ordering, joining site and
    # procedure into a primary-key read
    slot = Slot.objects.filter(pk=slot_id).order_by("pk").first()
    if slot is None or settings.MADOGUCHI_REFERENCE_CACHE_SECONDS <= 0:
        return slot
    day = clock.to_jst(slot.starts_at).date()
    siblings = Slot.objects.filter(
        site_id=slot.site_id,
        procedure_id=slot.procedure_id,
        starts_at__gte=clock.at(day, dt.time(0)),
        starts_at__lt=clock.at(day + dt.timedelta(days=1), dt.time(0)),
    ).exclude(pk=slot.pk)
    keep_for_booking("slot", {s.pk: s for s in siblings.order_by("starts_at")[:DAY_SLOTS_KEPT]})
    return slot


def slot_for_booking(slot_id: int) -> Slot | None:
    """The slot with its site (and municipality) and procedure, from the per-process reference
    cache (`offices.selectors.cached_for_booking`; read-only) — no query when cached. A slot's
    time, site and procedure never change; its SEATS here may be old: whatever tells a resident
    a time is free reads them live (`with_live_seats`), and the booking statement's claim
    counts them itself."""
    slot = cached_for_booking("slot", slot_id, _read_slot)
    if slot is None:
        return None
    slot.procedure = procedure_for_booking(slot.procedure_id)
    slot.site = site_for_booking(slot.site_id)
    return slot


def with_live_seats(slot: Slot) -> Slot | None:
    """A copy of `slot` with its seats and `is_offered` as the database holds them now (one
    primary-key read, prepared once per connection on PostgreSQL: a rush sends one before
    every confirmation — `core.prepared`); None when the slot is gone."""
    rows = prepared_rows(
        Slot.objects.filter(pk=slot.pk)
        .order_by("pk")
        .values_list("capacity", "booked", "is_offered")[:1]
    )
    if not rows:
        return None
    live = copy.copy(slot)
    ((live.capacity, live.booked, live.is_offered),) = rows
    return live


@dataclass(frozen=True)
class BookingWindow:
    """The first and last business dates a resident may book today (inclusive)."""

    first: dt.date
    last: dt.date


def booking_window(municipality: Municipality, *, today: dt.date | None = None) -> BookingWindow:
    """Today + `booking_window_min_days` … today + `booking_window_max_days`."""
    day = today or clock.today()
    return BookingWindow(
        first=day + dt.timedelta(days=municipality.booking_window_min_days),
        last=day + dt.timedelta(days=municipality.booking_window_max_days),
    )


def bookable_slots(
    *, site_id: int, procedure_code: str, date_from: dt.date, date_to: dt.date
) -> QuerySet[Slot]:
    """Offered slots of one site and procedure between two dates (inclusive), clipped to the
    booking window and to the future, in time order. Full slots are included (remaining 0), so
    a calendar can show them as ×."""
    municipality = _municipality_of_site(site_id)
    if municipality is None:
        return Slot.objects.none()
    window = booking_window(municipality)
    first = max(date_from, window.first)
    last = min(date_to, window.last)
    return (
        Slot.objects.filter(
            site_id=site_id,
            procedure__code=procedure_code,
            is_offered=True,
            starts_at__gte=max(clock.at(first, dt.time(0)), clock.now()),
            starts_at__lt=clock.at(last + dt.timedelta(days=1), dt.time(0)),
        )
        .select_related("procedure")
        .order_by("starts_at")
    )


@dataclass(frozen=True)
class MonthSeats:
    """What a month calendar shows of one site and procedure, from one read."""

    seats: dict[dt.date, tuple[int, int]]
    """Business dates inside the booking window (and not yet past) → (free seats, seats)."""
    soon: frozenset[dt.date]
    """Dates the site offers the procedure but too soon to book online (from today to the day
    before the booking window opens): a calendar marks them apart from closed days."""
    first_free_day: dt.date | None
    """The first date in the whole booking window with a time that seats `people` (what the
    calendar names as the first day to book), or None."""
    most_in_one: dict[dt.date, int] = field(default_factory=dict)
    """The dates of `seats` → the most free seats of one time that day (what a family coming
    together needs)."""


def month_seats(
    *, site_id: int, procedure_code: str, date_from: dt.date, date_to: dt.date, people: int = 1
) -> MonthSeats:
    """Seats per date between `date_from` and `date_to` (inclusive), the most free seats of one
    time per date, the dates too soon to book, and the booking window's first date with a time
    that seats `people` — ONE aggregate statement (slots summed per business date in the
    database), with the site, municipality and procedure from the reference cache. The month
    page re-renders it every few seconds per process while a rush reads it
    (core/pagecache.py), so it asks for what the page shows and nothing more."""
    municipality = _municipality_of_site(site_id)
    procedure = procedure_by_code(procedure_code)
    if municipality is None or procedure is None:
        return MonthSeats({}, frozenset(), None)
    window = booking_window(municipality)
    today = clock.today()
    bookable_from = max(clock.at(window.first, dt.time(0)), clock.now())
    soon_first, soon_last = max(date_from, today), min(date_to, window.first - dt.timedelta(days=1))
    seats_first, seats_last = max(date_from, window.first), min(date_to, window.last)
    bookable = Q(starts_at__gte=bookable_from)
    per_day = (
        Slot.objects.filter(
            site_id=site_id,
            procedure_id=procedure.pk,
            is_offered=True,
            starts_at__gte=clock.at(min(soon_first, window.first), dt.time(0)),
            starts_at__lt=clock.at(window.last + dt.timedelta(days=1), dt.time(0)),
        )
        .annotate(day=TruncDate("starts_at", tzinfo=clock.JST))
        .values("day")
        .annotate(
            seats_free=Sum(Greatest(F("capacity") - F("booked"), Value(0)), filter=bookable),
            seats_total=Sum("capacity", filter=bookable),
            most_in_one=Max(Greatest(F("capacity") - F("booked"), Value(0)), filter=bookable),
            first_free_at=Min(
                "starts_at", filter=bookable & Q(booked__lte=F("capacity") - max(people, 1))
            ),
        )
        .order_by("day")
        .values_list("day", "seats_total", "seats_free", "most_in_one", "first_free_at")
    )
    seats: dict[dt.date, tuple[int, int]] = {}
    most_in_one: dict[dt.date, int] = {}
    soon: set[dt.date] = set()
    first_free: dt.datetime | None = None
    for day, capacity, free, most, first in per_day:
        if seats_first <= day <= seats_last and capacity is not None:
            seats[day] = (int(free), int(capacity))
            most_in_one[day] = int(most or 0)
        if soon_first <= day <= soon_last:
            soon.add(day)
        if first is not None and (first_free is None or first < first_free):
            first_free = first
    return MonthSeats(
        seats,
        frozenset(soon),
        clock.to_jst(first_free).date() if first_free else None,
        most_in_one,
    )


def _municipality_of_site(site_id: int) -> Municipality | None:
    """The site's municipality (its booking window) from the reference cache."""
    try:
        return site_for_booking(site_id).municipality
    except Site.DoesNotExist:
        return None


@dataclass(frozen=True)
class DayAvailability:
    day: dt.date
    capacity: int
    remaining: int

    @property
    def mark(self) -> str:
        """○ plenty (over a third free), △ a few, × none."""
        if self.remaining <= 0:
            return "×"
        return "○" if self.remaining * 3 > self.capacity else "△"


def availability_by_day(
    *, site_id: int, procedure_code: str, date_from: dt.date, date_to: dt.date
) -> list[DayAvailability]:
    """Seats and free seats per date (only dates that have slots), for a month view."""
    totals: dict[dt.date, list[int]] = {}
    for slot in bookable_slots(
        site_id=site_id, procedure_code=procedure_code, date_from=date_from, date_to=date_to
    ).only("starts_at", "capacity", "booked", "is_offered"):
        day = clock.to_jst(slot.starts_at).date()
        entry = totals.setdefault(day, [0, 0])
        entry[0] += slot.capacity
        entry[1] += slot.remaining
    return [DayAvailability(day, c, r) for day, (c, r) in sorted(totals.items())]


def nearest_free_slots(*, slot: Slot, seats: int = 1, limit: int = 5) -> list[Slot]:
    """Up to `limit` offered slots of the same site and procedure with `seats` free, inside the
    booking window, closest in time to `slot` first (earlier ones win ties).

    One query: the `limit` nearest later and `limit` nearest earlier slots as two subqueries —
    a full slot answers every booking that lost the race for it, so in a rush this runs about
    as often as the booking itself."""
    window = booking_window(slot.site.municipality)
    free = Slot.objects.filter(
        site_id=slot.site_id,
        procedure_id=slot.procedure_id,
        is_offered=True,
        booked__lte=F("capacity") - seats,
        starts_at__gte=max(clock.at(window.first, dt.time(0)), clock.now()),
        starts_at__lt=clock.at(window.last + dt.timedelta(days=1), dt.time(0)),
    ).exclude(pk=slot.pk)
    later = free.filter(starts_at__gte=slot.starts_at).order_by("starts_at", "pk")
    earlier = free.filter(starts_at__lt=slot.starts_at).order_by("-starts_at", "pk")
    found = Slot.objects.filter(
        Q(pk__in=later.values("pk")[:limit]) | Q(pk__in=earlier.values("pk")[:limit])
    )
    both = sorted(
        found,
        key=lambda s: (abs((s.starts_at - slot.starts_at).total_seconds()), s.starts_at),
    )
    return both[:limit]


def free_card_pickup_seats(
    *, municipality_id: int, window_from: dt.datetime, window_until: dt.datetime
) -> int:
    """Unbooked card pick-up seats in offered slots starting in [window_from, window_until)
    (what notice pacing may send residents to: `reservations.pacing`)."""
    total = Slot.objects.filter(
        procedure__code=ProcedureCode.CARD_PICKUP,
        site__municipality_id=municipality_id,
        is_offered=True,
        starts_at__gte=window_from,
        starts_at__lt=window_until,
    ).aggregate(free=Sum(F("capacity") - F("booked")))["free"]
    return int(total or 0)


def _of(municipality: Municipality | None) -> QuerySet[Reservation]:
    reservations = Reservation.objects.select_related("slot__site", "procedure")
    if municipality is not None:
        reservations = reservations.filter(slot__site__municipality=municipality)
    return reservations


def find_reservation_for_resident(
    *, code: str, birth_date: dt.date, municipality: Municipality | None = None
) -> Reservation:
    """The reservation with this code and birth date (at `municipality`'s sites when given: the
    residents' site it is asked on); the uniform 404 `not_found` otherwise (the same answer for
    a wrong code, a wrong birth date and another municipality's booking)."""
    normalized = normalize.normalize_reservation_code(code)
    reservation = _of(municipality).filter(code=normalized).first() if normalized else None
    if reservation is None or reservation.birth_date != birth_date:
        raise not_found()
    return reservation


def find_reservation_by_number(
    *, number: str, birth_date: dt.date, municipality: Municipality | None = None
) -> Reservation:
    """What the look-up page finds: `number` is a booking code (予約コード) or a notice number
    (交付通知書番号, which finds that card's active pick-up booking), with the birth date given
    when booking. The uniform 404 `not_found` for an unknown number, a notice number without an
    active booking and a wrong birth date alike (no enumeration)."""
    if normalize.normalize_reservation_code(number):
        return find_reservation_for_resident(
            code=number, birth_date=birth_date, municipality=municipality
        )
    notice = numbers.normalize_notice_number(number)
    reservation = (
        _of(municipality)
        .filter(
            person_key=f"notice:{notice}",
            procedure__code=ProcedureCode.CARD_PICKUP,
            status__in=ACTIVE_STATUSES,
        )
        .first()
        if notice
        else None
    )
    if reservation is None or reservation.birth_date != birth_date:
        raise not_found()
    return reservation


def group_members(reservation: Reservation) -> QuerySet[Reservation]:
    """Everyone booked together with `reservation` (itself included)."""
    return Reservation.objects.filter(group_code=reservation.group_code).order_by("id")


def site_day_reservations(*, site_id: int, day: dt.date) -> QuerySet[Reservation]:
    """All reservations (any status) at a site on one business date, by time (day view)."""
    return (
        Reservation.objects.filter(
            slot__site_id=site_id,
            slot__starts_at__gte=clock.at(day, dt.time(0)),
            slot__starts_at__lt=clock.at(day + dt.timedelta(days=1), dt.time(0)),
        )
        .select_related("slot", "procedure")
        .order_by("slot__starts_at", "id")
    )


def slot_conflicts(*, site_id: int | None = None) -> QuerySet[Slot]:
    """Slots that hold bookings the calendar no longer supports (closed hours, or more bookings
    than the new capacity): staff must move or contact these residents."""
    query = Slot.objects.filter(booked__gt=0).exclude(conflict_reason="")
    if site_id is not None:
        query = query.filter(site_id=site_id)
    return query.select_related("site", "procedure").order_by("starts_at")


def seats_summary(*, site_id: int, day: dt.date) -> dict[str, int]:
    """Capacity and booked seats of a site's slots on one date (for staff dashboards)."""
    totals = Slot.objects.filter(
        site_id=site_id,
        starts_at__gte=clock.at(day, dt.time(0)),
        starts_at__lt=clock.at(day + dt.timedelta(days=1), dt.time(0)),
    ).aggregate(capacity=Sum("capacity"), booked=Sum("booked"))
    return {"capacity": totals["capacity"] or 0, "booked": totals["booked"] or 0}


def require_offered_slot(slot_id: int) -> Slot:
    """An offered slot by id, or 422 `invalid_slot`."""
    slot = (
        Slot.objects.select_related("site", "procedure").filter(pk=slot_id, is_offered=True).first()
    )
    if slot is None:
        raise DomainError("invalid_slot", _("選ばれた枠が見つかりません。"))
    return slot
