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
