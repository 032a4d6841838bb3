"""Slot generation: counters, terminals, walk-in share and the split; safe regeneration."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.offices.models import (
    Municipality,
    OpeningSession,
    Procedure,
    SessionKind,
    Site,
    Terminal,
)
from madoguchi.reservations.models import Slot
from madoguchi.reservations.selectors import slot_conflicts
from madoguchi.reservations.services import book_reservation, cancel_reservation
from madoguchi.reservations.slots import (
    CONFLICT_NOT_IN_CALENDAR,
    CONFLICT_OVER_CAPACITY,
    GenerationReport,
    regenerate_site_slots,
)
from tests.offices import factories as offices
from tests.reservations.factories import VISIT_DAY, renewal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
SYSTEM = Actor.system("test")


def _generate(site: Site, day: dt.date = VISIT_DAY) -> GenerationReport:
    return regenerate_site_slots(site=site, first=day, last=day, actor=SYSTEM)


def test_slots_follow_the_opening_hours_and_the_procedure_duration(
    municipality: Municipality, cert_renewal: Procedure
) -> None:
    site = offices.site(municipality, counters=5, terminals=5, weekday_hours=("09:00", "12:00"))
    site.procedures.set([cert_renewal])
    municipality.walkin_share_percent = 20
    municipality.save()
    _generate(site)
    slots = list(Slot.objects.filter(site=site).order_by("starts_at"))
    assert len(slots) == 18  # 3 hours of 10-minute slots
    assert slots[0].starts_at == clock.at(VISIT_DAY, dt.time(9, 0))
    assert slots[-1].ends_at == clock.at(VISIT_DAY, dt.time(12, 0))
    assert {s.capacity for s in slots} == {4}  # 5 counters minus 20% for walk-ins


def test_terminals_limit_procedures_that_need_one(
    municipality: Municipality, cert_renewal: Procedure
) -> None:
    site = offices.site(municipality, counters=4, terminals=1, weekday_hours=("09:00", "10:00"))
    site.procedures.set([cert_renewal])
    municipality.walkin_share_percent = 0
    municipality.save()
    _generate(site)
    assert {s.capacity for s in Slot.objects.filter(site=site)} == {1}


def test_shared_counters_are_split_by_weight_within_one_seat_over_the_day(
    municipality: Municipality, card_pickup: Procedure, cert_renewal: Procedure
) -> None:
    site = offices.site(municipality, counters=2, terminals=2)  # 08:30–17:15
    site.procedures.set([card_pickup, cert_renewal])
    _generate(site)
    minutes = {"card_pickup": 0, "cert_renewal": 0}
    for slot in Slot.objects.filter(site=site).select_related("procedure"):
        minutes[slot.procedure.code] += slot.capacity * slot.procedure.duration_minutes
    open_minutes = 2 * 0.8 * (8 * 60 + 45)  # counters × (1 − walk-in share) × opening time
    assert minutes["card_pickup"] == pytest.approx(open_minutes * 50 / 80, abs=20)
    assert minutes["cert_renewal"] == pytest.approx(open_minutes * 30 / 80, abs=10)


def test_closed_days_get_no_slots(municipality: Municipality, cert_renewal: Procedure) -> None:
    site = offices.site(municipality)
    site.procedures.set([cert_renewal])
    regenerate_site_slots(
        site=site, first=dt.date(2026, 12, 5), last=dt.date(2026, 12, 6), actor=SYSTEM
    )
    assert not Slot.objects.exists()


def test_regenerating_twice_changes_nothing(
    municipality: Municipality, cert_renewal: Procedure
) -> None:
    site = offices.site(municipality)
    site.procedures.set([cert_renewal])
    first = _generate(site)
    again = _generate(site)
    assert first.created > 0
    assert (again.created, again.updated, again.removed) == (0, 0, 0)


def test_regeneration_after_a_closure_keeps_booked_slots_and_lists_them_as_conflicts(
    municipality: Municipality, cert_renewal: Procedure
) -> None:
    site = offices.site(municipality, counters=2, terminals=2, weekday_hours=("09:00", "12:00"))
    site.procedures.set([cert_renewal])
    _generate(site)
    booked_slot = Slot.objects.filter(site=site).order_by("starts_at")[3]
    reservation = book_reservation(
        slot_id=booked_slot.pk,
        procedure_code="cert_renewal",
        applicant=renewal(),
        actor=Actor.resident(),
    )
    OpeningSession.objects.filter(site=site).update(
        starts_at_time=dt.time(13, 0), ends_at_time=dt.time(16, 0)
    )
    report = _generate(site)
    assert report.conflicts == 1
    booked_slot.refresh_from_db()
    assert not booked_slot.is_offered and booked_slot.booked == 1
    assert list(slot_conflicts(site_id=site.pk)) == [booked_slot]
    assert Slot.objects.filter(pk=booked_slot.pk, reservations=reservation).exists()
    assert not Slot.objects.filter(site=site, booked=0, starts_at__hour=9).exists()


def test_a_capacity_cut_below_the_bookings_keeps_them_and_flags_the_slot(
    municipality: Municipality, cert_renewal: Procedure
) -> None:
    site = offices.site(municipality, counters=5, terminals=5, weekday_hours=("09:00", "10:00"))
    site.procedures.set([cert_renewal])
    municipality.walkin_share_percent = 0
    municipality.save()
    _generate(site)
    slot = Slot.objects.filter(site=site).order_by("starts_at").first()
    assert slot is not None and slot.capacity == 5
    for n, family in enumerate(["アオキ", "イトウ", "ウエダ"]):
        book_reservation(
            slot_id=slot.pk,
            procedure_code="cert_renewal",
            applicant=renewal(family=family, email=f"{n}@example.jp"),
            actor=Actor.resident(),
        )
    Terminal.objects.filter(site=site).exclude(name="端末1").update(is_active=False)
    report = _generate(site)
    slot.refresh_from_db()
    assert (slot.capacity, slot.booked, report.conflicts) == (3, 3, 1)
    assert slot.conflict_reason
    assert SessionKind.WEEKDAY


def _book(slot: Slot, family: str) -> str:
    return book_reservation(
        slot_id=slot.pk,
        procedure_code="cert_renewal",
        applicant=renewal(family=family, email=f"{len(family)}{slot.pk}@example.jp"),
        actor=Actor.resident(),
    ).code


def _at(hour: int, minute: int) -> dt.datetime:
    return clock.at(VISIT_DAY, dt.time(hour, minute))


def test_a_changed_calendar_withdraws_resizes_and_creates_slots_with_their_bookings_kept(
    municipality: Municipality, cert_renewal: Procedure
) -> None:
    """Every path of one regeneration at once: slots the calendar lost are deleted (never
    booked), closed (a booking cancelled: nothing offered, no conflict) or kept as conflicts
    (booked); slots it keeps shrink, never below their bookings (flagged when over); slots it
    gained are made — and one audit event says how many of each."""
    from madoguchi.core.models import AuditEvent

    site = offices.site(municipality, counters=4, terminals=4, weekday_hours=("09:00", "12:00"))
    site.procedures.set([cert_renewal])
    municipality.walkin_share_percent = 0
    municipality.save()
    _generate(site)
    slot_at = {s.starts_at: s for s in Slot.objects.filter(site=site)}
    _book(slot_at[_at(9, 30)], "アオキ")
    cancel_reservation(code=_book(slot_at[_at(9, 40)], "イトウ"), actor=Actor.resident())
    _book(slot_at[_at(10, 0)], "ウエダ")
    _book(slot_at[_at(10, 0)], "エンドウ")
    _book(slot_at[_at(10, 10)], "オオタ")
    OpeningSession.objects.filter(site=site).update(
        starts_at_time=dt.time(10, 0), ends_at_time=dt.time(13, 0), counters_open=1
    )

    report = _generate(site)

    assert (report.created, report.updated, report.removed, report.conflicts) == (6, 14, 4, 2)
    rows = {
        clock.to_jst(s.starts_at).strftime("%H:%M"): (
            s.capacity,
            s.booked,
            s.is_offered,
            s.conflict_reason,
            s.ends_at - s.starts_at,
        )
        for s in Slot.objects.filter(site=site)
    }
    ten = dt.timedelta(minutes=10)
    assert rows.pop("09:30") == (1, 1, False, CONFLICT_NOT_IN_CALENDAR, ten)
    assert rows.pop("09:40") == (0, 0, False, "", ten)
    assert rows.pop("10:00") == (2, 2, True, CONFLICT_OVER_CAPACITY, ten)
    assert rows.pop("10:10") == (1, 1, True, "", ten)
    expected_free = [f"{hour}:{minute:02d}" for hour in (10, 11, 12) for minute in range(0, 60, 10)]
    assert sorted(rows) == sorted(set(expected_free) - {"10:00", "10:10"})
    assert set(rows.values()) == {(1, 0, True, "", ten)}
    event = AuditEvent.objects.filter(action="slots.regenerate").order_by("pk").last()
    assert event is not None and event.after == {
        "first": VISIT_DAY.isoformat(),
        "last": VISIT_DAY.isoformat(),
        "created": 6,
        "updated": 14,
        "removed": 4,
        "conflicts": 2,
    }


def test_a_longer_procedure_moves_the_end_of_the_slots_it_keeps(
    municipality: Municipality, cert_renewal: Procedure
) -> None:
    site = offices.site(municipality, counters=2, terminals=2, weekday_hours=("09:00", "10:00"))
    site.procedures.set([cert_renewal])
    _generate(site)
    booked = Slot.objects.get(site=site, starts_at=_at(9, 30))
    _book(booked, "アオキ")
    Procedure.objects.filter(pk=cert_renewal.pk).update(duration_minutes=15)

    report = _generate(site)

    starts = {s.starts_at: s for s in Slot.objects.filter(site=site, is_offered=True)}
    assert sorted(starts) == [_at(9, 0), _at(9, 15), _at(9, 30), _at(9, 45)]
    assert {s.ends_at - s.starts_at for s in starts.values()} == {dt.timedelta(minutes=15)}
    assert starts[_at(9, 30)].pk == booked.pk and starts[_at(9, 30)].booked == 1
    assert (report.created, report.updated, report.removed) == (2, 2, 4)


def test_a_regeneration_takes_as_many_statements_for_a_week_as_for_a_day(
    municipality: Municipality, cert_renewal: Procedure
) -> None:
    """Slots are withdrawn, resized and made set by set, not one statement per slot."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sites = []
    for name in ("一日", "一週間"):
        site = offices.site(municipality, weekday_hours=("09:00", "12:00"), name=name)
        site.procedures.set([cert_renewal])
        sites.append(site)
    week = VISIT_DAY + dt.timedelta(days=4)
    for site, last in zip(sites, (VISIT_DAY, week), strict=True):
        regenerate_site_slots(site=site, first=VISIT_DAY, last=last, actor=SYSTEM)
    OpeningSession.objects.filter(site__in=sites).update(
        starts_at_time=dt.time(10, 0), ends_at_time=dt.time(13, 0), counters_open=1
    )
    statements = []
    reports = []
    for site, last in zip(sites, (VISIT_DAY, week), strict=True):
        with CaptureQueriesContext(connection) as queries:
            reports.append(
                regenerate_site_slots(site=site, first=VISIT_DAY, last=last, actor=SYSTEM)
            )
        statements.append(len(queries))
    day, whole_week = reports
    assert (whole_week.removed, whole_week.updated) == (5 * day.removed, 5 * day.updated)
    assert day.removed > 0 and day.updated > 0 and day.created > 0
    assert statements[0] == statements[1]
