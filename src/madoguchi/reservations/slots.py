"""Slot generation from each site's calendar, counters and terminals.

How many seats a slot gets (see docs in `planned_slots`):

1. **Positions**: the counters open in that period; for a procedure that needs a card terminal,
   at most the site's active terminals (`min(counters, terminals)`).
2. **Walk-in share**: the municipality's `walkin_share_percent` of the positions is held back.
3. **Fair split between procedures**: a site's bookable positions are shared by the procedures it
   offers in proportion to a weight (`DEFAULT_SLOT_WEIGHTS`: card pick-up 50, certificate
   renewal 30, card application 20, anything else 10; `MADOGUCHI_SLOT_WEIGHTS` overrides).
4. The result is fractional (e.g. 0.8 positions); slot lengths equal the procedure's duration, and
   the fraction is carried from slot to slot through the day (error diffusion), so a procedure
   with 0.8 positions gets 4 seats in every 5 slots and the day's total matches its share of
   counter time within one seat.

Regeneration never drops a reservation: a slot that no longer fits keeps its bookings, stops
being offered, and is listed by `selectors.slot_conflicts` for staff to resolve.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DateTimeField, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Greatest

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.offices.calendar import SiteCalendar, procedure_periods
from madoguchi.offices.models import Procedure, ProcedureCode, Site, Terminal
from madoguchi.offices.selectors import active_sites, offered_procedures
from madoguchi.reservations.models import Reservation, Slot

OTHER_PROCEDURE_WEIGHT = 10
DEFAULT_SLOT_WEIGHTS: dict[str, int] = {
    ProcedureCode.CARD_PICKUP: 50,
    ProcedureCode.CERT_RENEWAL: 30,
    ProcedureCode.CARD_APPLICATION: 20,
}

T = TypeVar("T")

CONFLICT_NOT_IN_CALENDAR = "カレンダー変更により、この時間は受付時間外になりました"
CONFLICT_OVER_CAPACITY = "カレンダー変更により、予約数が定員を超えています"


def slot_weights() -> dict[str, int]:
    """Per-procedure weights for the fair split: `DEFAULT_SLOT_WEIGHTS` with the deployment's
    `MADOGUCHI_SLOT_WEIGHTS` over them; a procedure named in neither weighs
    `OTHER_PROCEDURE_WEIGHT`."""
    configured: dict[str, int] = settings.MADOGUCHI_SLOT_WEIGHTS
    return {**DEFAULT_SLOT_WEIGHTS, **configured}


@dataclass(frozen=True)
class PlannedSlot:
    procedure_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int


class ExistingSlot(NamedTuple):
    """What a regeneration reads of a slot it finds: the keys and values it compares with the
    plan (and `booked`, for the concurrency test's negative control) — a plain row, not a
    model instance: a site's weeks of slots are thousands of rows, read every night."""

    pk: int
    procedure_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    is_offered: bool
    conflict_reason: str
    booked: int


@dataclass
class GenerationReport:
    """What one regeneration did, per site."""

    created: int = 0
    updated: int = 0
    removed: int = 0
    conflicts: int = 0

    def add(self, other: GenerationReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.removed += other.removed
        self.conflicts += other.conflicts


def spread_seats(slots: int, seats_per_slot: float, carry: float) -> tuple[list[int], float]:
    """Whole seats for `slots` consecutive slots of one period, `seats_per_slot` on average,
    plus the fraction `carry` left from the day's earlier periods; returns the seats per slot
    and the fraction carried on.

    The period gets `floor(carry + slots × seats_per_slot)` seats, spread evenly and front-loaded:
    slot i holds ceil((i + 1) × s) − ceil(i × s) of them (capped at the total), so the first
    slot of a session always has a seat when the session has any — a day opening at 09:00
    offers 09:00, never first 09:10 (plain error diffusion started at the second slot when a
    procedure had less than one seat per slot).
    """
    total = math.floor(carry + slots * seats_per_slot + 1e-9)

    def before(index: int) -> int:
        return min(total, math.ceil(index * seats_per_slot - 1e-9))

    seats = [before(index + 1) - before(index) for index in range(slots)]
    return seats, carry + slots * seats_per_slot - total


def planned_slots(
    calendar: SiteCalendar,
    procedures: list[Procedure],
    first: dt.date,
    last: dt.date,
    *,
    terminals: int,
    walkin_share_percent: int,
    only: int | None = None,
    skip: Container[dt.date] = (),
) -> list[PlannedSlot]:
    """The slots the calendar calls for between `first` and `last` (inclusive), capacity ≥ 1.

    Pure apart from reading the loaded calendar: positions per period come from the counters
    open (and `terminals` for terminal procedures), minus the walk-in share, split between
    `procedures` by weight; fractions carry over from slot to slot within a day. `only`: the
    slots of that one procedure (its share still counts every procedure's weight); `skip`: days
    left out. Both give exactly the slots the full plan has for them, in less time.
    """
    weights = slot_weights()
    weight_of = {p.pk: weights.get(p.code, OTHER_PROCEDURE_WEIGHT) for p in procedures}
    total_weight = sum(weight_of.values())
    if total_weight <= 0:
        return []
    bookable_share = (100 - walkin_share_percent) / 100
    planned: list[PlannedSlot] = []
    day = first
    while day <= last:
        if day in skip:
            day += dt.timedelta(days=1)
            continue
        for procedure in procedures:
            if only is not None and procedure.pk != only:
                continue  # a procedure's carry is its own: the others' slots change nothing
            share = weight_of[procedure.pk] / total_weight
            carry = 0.0
            step = dt.timedelta(minutes=procedure.duration_minutes)
            for period in procedure_periods(calendar, procedure, day):
                positions = period.counters
                if procedure.needs_terminal:
                    positions = min(positions, terminals)
                seats_per_slot = positions * bookable_share * share
                starts = []
                start = period.starts_at
                while start + step <= period.ends_at:
                    starts.append(start)
                    start += step
                seats_in_slots, carry = spread_seats(len(starts), seats_per_slot, carry)
                planned.extend(
                    PlannedSlot(procedure.pk, begins, begins + step, seats)
                    for begins, seats in zip(starts, seats_in_slots, strict=True)
                    if seats > 0
                )
        day += dt.timedelta(days=1)
    return planned


def regenerate_site_slots(
    *, site: Site, first: dt.date, last: dt.date, actor: Actor
) -> GenerationReport:
    """Make `site`'s slots between `first` and `last` match its calendar; atomic and audited.

    Creates missing slots, updates capacities, removes slots that no longer fit and were never
    booked; a slot that no longer fits but has reservations (or would fall below its bookings)
    is kept with its bookings and flagged as a conflict (`conflicts` in the report).
    Capacity is changed by UPDATEs over many slots at once that never take a slot below its
    `booked` as they find it, so a booking committed concurrently is never lost.
    """
    procedures = offered_procedures(site)
    calendar = SiteCalendar.load(site)
    terminals = Terminal.objects.filter(site=site, is_active=True).count()
    plan = planned_slots(
        calendar,
        procedures,
        first,
        last,
        terminals=terminals,
        walkin_share_percent=site.municipality.walkin_share_percent,
    )
    wanted = {(p.procedure_id, p.starts_at): p for p in plan}
    report = GenerationReport()
    window_start = calendar_start(first)
    window_end = calendar_start(last + dt.timedelta(days=1))
    with transaction.atomic():
        existing = {
            (s.procedure_id, s.starts_at): s
            for s in map(
                ExistingSlot._make,
                Slot.objects.filter(
                    site=site, starts_at__gte=window_start, starts_at__lt=window_end
                ).values_list(*ExistingSlot._fields),
            )
        }
        new = [
            Slot(
                site=site,
                procedure_id=p.procedure_id,
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                capacity=p.capacity,
            )
            for key, p in wanted.items()
            if key not in existing
        ]
        Slot.objects.bulk_create(new, batch_size=1000)
        report.created = len(new)
        gone: list[ExistingSlot] = []
        changed: list[tuple[ExistingSlot, PlannedSlot]] = []
        for key, slot in existing.items():
            target = wanted.get(key)
            if target is None:
                gone.append(slot)
            elif (
                slot.capacity != target.capacity
                or slot.ends_at != target.ends_at
                or not slot.is_offered
                or slot.conflict_reason
            ):
                changed.append((slot, target))
        between_read_and_withdraw(site.pk)
        report.add(_withdraw(gone))
        report.add(_resize(changed))
        if report.created or report.updated or report.removed:
            record_audit_event(
                actor=actor,
                action="slots.regenerate",
                subject_type="offices.Site",
                subject_id=site.pk,
                after={
                    "first": first.isoformat(),
                    "last": last.isoformat(),
                    "created": report.created,
                    "updated": report.updated,
                    "removed": report.removed,
                    "conflicts": report.conflicts,
                },
            )
    return report


CALENDAR_CHANGE_WEEKS = 8
"""A calendar changed in the admin is applied to this many weeks of slots from today (as far
as the nightly `generate-slots` goes by default), or to the booking window if it is longer."""


def match_slots_to_calendars(site_ids: Iterable[int], *, actor: Actor) -> list[Slot]:
    """After a change to these sites' calendars: their slots from today on made to match it
    (`regenerate_site_slots`: never drops a booking), and the future slots holding bookings the
    calendar no longer supports, in time order — the people someone has to call."""
    sites = list(
        Site.objects.filter(pk__in=set(site_ids), is_active=True).select_related("municipality")
    )
    today = clock.today()
    for site in sites:
        days = max(CALENDAR_CHANGE_WEEKS * 7, site.municipality.booking_window_max_days + 1)
        regenerate_site_slots(
            site=site, first=today, last=today + dt.timedelta(days=days - 1), actor=actor
        )
    return list(
        Slot.objects.filter(site__in=sites, booked__gt=0, starts_at__gte=clock.now())
        .exclude(conflict_reason="")
        .select_related("site", "procedure")
        .order_by("starts_at", "pk")
    )


def calendar_start(day: dt.date) -> dt.datetime:
    """Midnight (JST) at the start of business date `day`."""
    return clock.at(day, dt.time(0, 0))


IN_BATCH = 500
"""Slots per statement (a few weeks of one site's slots): well under SQLite's and PostgreSQL's
limits on the parameters of one statement."""


def _batches(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), IN_BATCH):
        yield items[start : start + IN_BATCH]


def between_read_and_withdraw(site_id: int) -> None:
    """Runs in `regenerate_site_slots` after the site's slots were read and before those the
    calendar no longer has are withdrawn. Nothing in production; a concurrency test replaces it
    to let a resident's booking commit exactly there (tests/reservations/
    test_closure_concurrency.py)."""


FLAG_AS_READ_FOR_THE_NEGATIVE_CONTROL = False
"""True: `_withdraw` flags a slot as holding bookings from the slots as read before it, not
in its UPDATE — a booking committed in between then stays on the closed day unflagged, and the
administrator is not told to call that resident (the concurrency test's negative control)."""


def _withdraw(slots: list[ExistingSlot]) -> GenerationReport:
    """Slots the calendar no longer has: deleted when nothing ever pointed at them, else closed
    to new bookings with their bookings kept — a few statements for all of them together.

    The conditions are the statements' own filters, read row by row: a slot a booking reached
    first is not deleted (it is closed now and withdrawn like any booked slot), and
    `capacity = booked` takes `booked` as it is when the UPDATE reaches the row, so a booking
    committed concurrently is never lost."""
    report = GenerationReport()
    for batch in _batches([slot.pk for slot in slots]):
        ever_booked = Reservation.objects.filter(slot=OuterRef("pk"))
        deleted = (
            Slot.objects.filter(pk__in=batch, booked=0).exclude(Exists(ever_booked)).delete()[1]
        )
        report.removed += deleted.get(Slot._meta.label, 0)
        kept = Slot.objects.filter(pk__in=batch)  # what the DELETE left
        holds_bookings = Q(booked__gt=0)
        if FLAG_AS_READ_FOR_THE_NEGATIVE_CONTROL:
            holds_bookings = Q(pk__in=[slot.pk for slot in slots if slot.booked > 0])
        # Close them to new bookings; the bookings stay. `capacity = booked` keeps the CHECK true.
        report.updated += kept.update(
            is_offered=False,
            capacity=F("booked"),
            conflict_reason=Case(
                When(holds_bookings, then=Value(CONFLICT_NOT_IN_CALENDAR)), default=Value("")
            ),
        )
        report.conflicts += kept.filter(booked__gt=0).count()
    return report


def _resize(changes: list[tuple[ExistingSlot, PlannedSlot]]) -> GenerationReport:
    """Slots the calendar keeps with another capacity or end (or offers again): one UPDATE per
    capacity planned (a site's slots have a handful), never below the bookings a slot holds
    when the UPDATE reaches its row; a slot whose bookings exceed its new capacity keeps them
    and is flagged. An end that moved (a procedure's duration changed) is set slot by slot
    within the same statement."""
    report = GenerationReport()
    by_capacity: dict[int, list[tuple[ExistingSlot, PlannedSlot]]] = {}
    for slot, target in changes:
        by_capacity.setdefault(target.capacity, []).append((slot, target))
    for capacity, group in sorted(by_capacity.items()):
        for batch in _batches(group):
            fields: dict[str, Any] = {
                "is_offered": True,
                "capacity": Greatest(Value(capacity), F("booked")),
                "conflict_reason": Case(
                    When(booked__gt=capacity, then=Value(CONFLICT_OVER_CAPACITY)),
                    default=Value(""),
                ),
            }
            moved = [(slot.pk, t.ends_at) for slot, t in batch if slot.ends_at != t.ends_at]
            if moved:
                fields["ends_at"] = Case(
                    *(When(pk=pk, then=Value(ends_at)) for pk, ends_at in moved),
                    default=F("ends_at"),
                    output_field=DateTimeField(),
                )
            rows = Slot.objects.filter(pk__in=[slot.pk for slot, _ in batch])
            report.updated += rows.update(**fields)
            report.conflicts += rows.exclude(conflict_reason="").count()
    return report


def regenerate_slots(
    *, first: dt.date, last: dt.date, actor: Actor, sites: Iterable[Site] | None = None
) -> GenerationReport:
    """Regenerate every active site's slots (or `sites`') between `first` and `last`."""
    total = GenerationReport()
    for site in sites if sites is not None else active_sites():
        total.add(regenerate_site_slots(site=site, first=first, last=last, actor=actor))
    return total
