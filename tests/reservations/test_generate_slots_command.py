from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from madoguchi.reservations.models import Slot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def test_generate_slots_reports_what_it_did_and_is_idempotent(main_office: Any) -> None:
    out = StringIO()
    call_command("generate_slots", "--weeks", "2", stdout=out)
    created = Slot.objects.count()
    assert created > 0 and f"作成 {created}" in out.getvalue()
    again = StringIO()
    call_command("generate_slots", "--weeks", "2", stdout=again)
    assert "作成 0 / 更新 0 / 削除 0 / 要対応（予約ありで枠が合わない）0" in again.getvalue()


def test_the_nightly_run_covers_the_whole_booking_window(main_office: Any) -> None:
    """A municipality may open bookings up to 120 days ahead; the nightly run made 8 weeks of
    slots, so days 57–120 were offered on the calendar and never had a time to book."""
    import datetime as dt

    from madoguchi.core import clock
    from madoguchi.reservations.selectors import booking_window

    municipality = main_office.municipality
    municipality.booking_window_max_days = 120
    municipality.save()
    call_command("generate_slots", stdout=StringIO())
    last = booking_window(municipality).last
    latest = Slot.objects.filter(site=main_office).order_by("-starts_at").first()
    assert latest is not None
    assert clock.to_jst(latest.starts_at).date() >= last - dt.timedelta(days=3)  # a weekend
