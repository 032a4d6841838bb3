"""Read-only helpers for the counter console's pages (writes go through reservations.services)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import QuerySet

from madoguchi.core import clock
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.reservations.selectors import site_day_reservations


@dataclass(frozen=True)
class DayView:
    """One site's bookings on one date, by time, with counts per status."""

    day: dt.date
    reservations: list[Reservation]
    counts: dict[str, int]


def day_view(*, site_id: int, day: dt.date) -> DayView:
    """Every booking at the site on `day` with its queue ticket once checked in (one query),
    and how many are in each status."""
    rows = list(site_day_reservations(site_id=site_id, day=day).select_related("queue_ticket"))
    return DayView(day=day, reservations=rows, counts=dict(Counter(r.status for r in rows)))


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
