"""Local municipalities' reports kept for the roll-up, rebuilt when their inputs change.

Building a report (`report.build_report`) runs the renewal forecast, the capacity plan, the
counter-needs simulation and the backlog projection: far too much to repeat for every
municipality on every view of the roll-up. As with the staffing plan (`staffing_cache`), the
report is kept (`KeptReport`) with the SHA-256 of what it was built from, and a view compares
that digest with the current one — a handful of small queries per municipality — rebuilding only
the reports whose inputs changed.

The digest covers the day (the report is as of today), the municipality's own fields, the
planning inputs the staffing plan digests (policy, temporary-counter options, the register's
snapshot, sites, counters and their procedures, terminals, sessions, special openings, closures,
procedures), the register's last two snapshots (the holding view compares them), the cards
(count per status, notices, newest delivery, newest change, newest row), the slots (count and
checksums of capacity and bookings weighted by the slot's id, so a seat moved between two slots
changes it), the weekly application counts and the active contractors.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, Sum

from madoguchi.core import clock
from madoguchi.forecasts.models import KeptReport, RegisterSnapshot
from madoguchi.forecasts.report import SCHEMA_VERSION, ReportV1, build_report
from madoguchi.forecasts.staffing_cache import digest_of, site_input_parts
from madoguchi.issuance.models import ApplicationCount, CardRecord
from madoguchi.offices.models import Municipality
from madoguchi.reservations.models import Slot
from madoguchi.staff.models import Role, StaffUser

CACHE_VERSION = 1


def report_inputs_digest(municipality: Municipality, *, today: dt.date) -> str:
    """SHA-256 of everything the municipality's report as of `today` is built from."""
    slots = Slot.objects.filter(site__municipality=municipality).aggregate(
        slot_count=Count("pk"),
        seats=Sum("capacity"),
        bookings=Sum("booked"),
        offered=Count("pk", filter=Q(is_offered=True)),
        seats_by_slot=Sum(F("pk") * F("capacity")),
        bookings_by_slot=Sum(F("pk") * F("booked")),
        newest_slot=Max("pk"),
    )
    cards = CardRecord.objects.filter(municipality=municipality)
    card_totals = cards.aggregate(
        card_count=Count("pk"),
        noticed=Count("first_notice_issued_at"),
        last_noticed=Max("first_notice_issued_at"),
        last_delivered=Max("delivered_on"),
        changed=Max("updated_at"),
        newest_card=Max("pk"),
    )
    parts: dict[str, Any] = {
        "version": (CACHE_VERSION, SCHEMA_VERSION),
        "today": today,
        "municipality": Municipality.objects.filter(pk=municipality.pk).values().first(),
        **site_input_parts(municipality),
        "snapshots": list(
            RegisterSnapshot.objects.filter(municipality=municipality)
            .order_by("-pk")
            .values_list("pk", "file_sha256")[:2]
        ),
        "cards": card_totals,
        "card_statuses": list(
            cards.order_by("status")
            .values("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        ),
        "slots": slots,
        "applications": list(
            ApplicationCount.objects.filter(municipality=municipality)
            .order_by("week")
            .values_list("week", "applications")
        ),
        "contractors": StaffUser.objects.filter(
            municipality=municipality, role=Role.CONTRACTOR, is_active=True
        ).count(),
    }
    return digest_of(parts)


def kept_report(municipality: Municipality, *, today: dt.date | None = None) -> ReportV1:
    """The municipality's report as of `today`: the kept one when its inputs are unchanged,
    else built now and kept (replacing the previous one). The digest is taken before the
    build, so a change made during it leaves the kept report stale rather than wrongly fresh."""
    today = today or clock.today()
    digest = report_inputs_digest(municipality, today=today)
    row = KeptReport.objects.filter(municipality=municipality).first()
    if row is not None and row.inputs_digest == digest:
        try:
            return ReportV1.load(row.report)
        except ValueError:  # kept by a code version with another schema: build it again
            pass
    started = time.perf_counter()
    report = build_report(municipality, today=today)
    seconds = time.perf_counter() - started
    values = {
        "inputs_digest": digest,
        "built_at": clock.now(),
        "build_seconds": seconds,
        "report": report.dump(),
    }
    try:
        with transaction.atomic():
            KeptReport.objects.update_or_create(municipality=municipality, defaults=values)
    except IntegrityError:
        pass  # another request kept the same report at the same moment; this one is as good
    return report
