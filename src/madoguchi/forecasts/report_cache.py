"""Local municipalities' reports kept for the roll-up, rebuilt when their inputs change.

Building a report (`report.build_report`) runs the renewal forecast, the capacity plan, the
counter-needs simulation and the backlog projection: far too much to repeat for every
municipality on every view of the roll-up. As with the staffing plan (`staffing_cache`), the
report is kept (`KeptReport`) with the SHA-256 of what it was built from, and a view compares
that digest with the current one — taken for every municipality at once, one query per table
(`report_inputs_digests`) — rebuilding only the reports whose inputs changed.

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

from django.db.models import Count, F, Max, Q, Sum

from madoguchi.core import clock
from madoguchi.forecasts.kept import keep
from madoguchi.forecasts.models import KeptReport
from madoguchi.forecasts.report import SCHEMA_VERSION, ReportV1, build_report
from madoguchi.forecasts.staffing_cache import digest_of, site_input_parts_of, snapshots_of
from madoguchi.issuance.models import ApplicationCount, CardRecord
from madoguchi.offices.models import Municipality
from madoguchi.reservations.models import Slot
from madoguchi.staff.models import Role, StaffUser

CACHE_VERSION = 1


def report_inputs_digest(municipality: Municipality, *, today: dt.date) -> str:
    """SHA-256 of everything the municipality's report as of `today` is built from."""
    return report_inputs_digests([municipality.pk], today=today)[municipality.pk]


_NO_CARDS: dict[str, Any] = {
    "card_count": 0,
    "noticed": 0,
    "last_noticed": None,
    "last_delivered": None,
    "changed": None,
    "newest_card": None,
}
_NO_SLOTS: dict[str, Any] = {
    "slot_count": 0,
    "seats": None,
    "bookings": None,
    "offered": 0,
    "seats_by_slot": None,
    "bookings_by_slot": None,
    "newest_slot": None,
}


def _latest(values: list[Any]) -> Any:
    present = [value for value in values if value is not None]
    return max(present) if present else None


def report_inputs_digests(municipality_ids: list[int], *, today: dt.date) -> dict[int, str]:
    """`report_inputs_digest` of several municipalities at once: one query per table over all
    of them (about twenty whatever their number; the roll-up took that many per municipality)."""
    ids = set(municipality_ids)
    slots = {
        row["site__municipality_id"]: {
            name: value for name, value in row.items() if name != "site__municipality_id"
        }
        for row in Slot.objects.filter(site__municipality_id__in=ids)
        .values("site__municipality_id")
        .annotate(
            slot_count=Count("pk"),
            seats=Sum("capacity"),
            bookings=Sum("booked"),
            offered=Count("pk", filter=Q(is_offered=True)),
            seats_by_slot=Sum(F("pk") * F("capacity")),
            bookings_by_slot=Sum(F("pk") * F("booked")),
            newest_slot=Max("pk"),
        )
        .order_by()
    }
    by_status: dict[int, list[dict[str, Any]]] = {}
    for row in (
        CardRecord.objects.filter(municipality_id__in=ids)
        .values("municipality_id", "status")
        .annotate(
            n=Count("pk"),
            noticed=Count("first_notice_issued_at"),
            last_noticed=Max("first_notice_issued_at"),
            last_delivered=Max("delivered_on"),
            changed=Max("updated_at"),
            newest_card=Max("pk"),
        )
        .order_by("municipality_id", "status")
    ):
        by_status.setdefault(row["municipality_id"], []).append(dict(row))
    snapshots = snapshots_of(ids)  # read once, for the planning inputs too
    applications: dict[int, list[tuple[dt.date, int]]] = {}
    for owner, week, count in (
        ApplicationCount.objects.filter(municipality_id__in=ids)
        .order_by("municipality_id", "week")
        .values_list("municipality_id", "week", "applications")
    ):
        applications.setdefault(owner, []).append((week, count))
    contractors = dict(
        StaffUser.objects.filter(municipality_id__in=ids, role=Role.CONTRACTOR, is_active=True)
        .values("municipality_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("municipality_id", "n")
    )
    own = {row["id"]: row for row in Municipality.objects.filter(pk__in=ids).values()}
    planning = site_input_parts_of(municipality_ids, snapshots=snapshots)
    digests = {}
    for municipality_id in municipality_ids:
        statuses = by_status.get(municipality_id, [])
        cards = (
            {
                "card_count": sum(row["n"] for row in statuses),
                "noticed": sum(row["noticed"] for row in statuses),
                **{
                    name: _latest([row[name] for row in statuses])
                    for name in ("last_noticed", "last_delivered", "changed", "newest_card")
                },
            }
            if statuses
            else _NO_CARDS
        )
        parts: dict[str, Any] = {
            "version": (CACHE_VERSION, SCHEMA_VERSION),
            "today": today,
            "municipality": own.get(municipality_id),
            **planning[municipality_id],
            "snapshots": [(pk, sha) for pk, sha, _ in snapshots.get(municipality_id, [])[:2]],
            "cards": cards,
            "card_statuses": [(row["status"], row["n"]) for row in statuses],
            "slots": slots.get(municipality_id, _NO_SLOTS),
            "applications": applications.get(municipality_id, []),
            "contractors": contractors.get(municipality_id, 0),
        }
        digests[municipality_id] = digest_of(parts)
    return digests


def kept_report(municipality: Municipality, *, today: dt.date | None = None) -> ReportV1:
    """The municipality's report as of `today`: the kept one when its inputs are unchanged,
    else built now and kept (replacing the previous one)."""
    return kept_reports([municipality], today=today)[0]


def kept_reports(
    municipalities: list[Municipality],
    *,
    today: dt.date | None = None,
    digests: dict[int, str] | None = None,
) -> list[ReportV1]:
    """The reports of `municipalities` as of `today`, in their order: each the kept one when its
    inputs are unchanged, else built now and kept. The digests are taken for all at once and
    before any build (or given, just taken, by the caller), so a change made during a build
    leaves that report stale rather than wrongly fresh."""
    today = today or clock.today()
    if digests is None or not {m.pk for m in municipalities} <= digests.keys():
        digests = report_inputs_digests([m.pk for m in municipalities], today=today)
    rows = {
        row.municipality_id: row
        for row in KeptReport.objects.filter(municipality__in=municipalities)
    }
    reports = []
    for municipality in municipalities:
        row = rows.get(municipality.pk)
        if row is not None and row.inputs_digest == digests[municipality.pk]:
            try:
                reports.append(ReportV1.load(row.report))
                continue
            except ValueError:  # kept by a code version with another schema: build it again
                pass
        reports.append(_build_and_keep(municipality, today, digests[municipality.pk]))
    return reports


def _build_and_keep(municipality: Municipality, today: dt.date, digest: str) -> ReportV1:
    started = time.perf_counter()
    report = build_report(municipality, today=today)
    seconds = time.perf_counter() - started
    keep(
        KeptReport,
        municipality=municipality,
        defaults={
            "inputs_digest": digest,
            "built_at": clock.now(),
            "build_seconds": seconds,
            "report": report.dump(),
        },
    )
    return report
