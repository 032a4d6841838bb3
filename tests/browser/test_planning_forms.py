"""The planning forms a manager submits, in Chromium: uploading a register and applying the
backlog proposals. Each page after the submit passes axe-core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from madoguchi.forecasts.models import RegisterRecord, RegisterSnapshot
from madoguchi.offices.models import SpecialOpening
from tests import live_worlds
from tests.conftest import axe_violations
from tests.forecasts.test_planning_pages import TODAY, _notified_cards
from tests.frozen_clock import DEMO_MORNING, frozen_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_uploads_a_register_and_then_a_bad_one(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    with frozen_at(DEMO_MORNING, tick=True):
        live_worlds.demo_city_signed_in(page, live_server.url, residents=200, seed=5, today=TODAY)
        page.goto(f"{live_server.url}/staff/planning/")
        page.click("text=住民台帳の取込み")
        good = tmp_path / "register.csv"
        good.write_text(
            "person_id,birth_date,card_issued_on,cert_issued_on,area\n"
            + "".join(f"B-{n},1980-05-0{n % 9 + 1},2020-01-10,2020-01-10,北町\n" for n in range(30))
        )
        page.set_input_files("#id_file", str(good))
        page.fill("#id_taken_on", "2026-11-01")
        page.click("main button[type=submit]")
        assert page.get_by_role("heading", name="取り込みました").count() == 1
        assert "30人分の住民台帳を取り込みました" in page.content()
        assert axe_violations(page) == []
        assert RegisterRecord.objects.count() == 30

        bad = tmp_path / "bad.csv"
        bad.write_text("person_id,birth_date,card_issued_on,cert_issued_on\nX,1980-13-01,,\n")
        page.set_input_files("#id_file", str(bad))
        page.click("main button[type=submit]")
        assert page.get_by_role("heading", name="取り込みませんでした").count() == 1
        assert "2行目: birth_date" in page.content()
        assert axe_violations(page) == []
        assert RegisterRecord.objects.count() == 30
        assert RegisterSnapshot.objects.count() == 2  # the demo's and the uploaded one


def test_a_manager_applies_the_backlog_proposals(page: Any, live_server: Any) -> None:
    with frozen_at(DEMO_MORNING, tick=True):
        summary = live_worlds.demo_city_signed_in(
            page, live_server.url, residents=200, seed=5, today=TODAY
        )
        _notified_cards(summary.municipality, 3000)
        page.goto(f"{live_server.url}/staff/planning/")
        openings = SpecialOpening.objects.count()
        page.click("text=この案を適用する")
        page.wait_for_url(f"{live_server.url}/staff/planning/")
        assert "臨時開庁を" in page.content()
        assert SpecialOpening.objects.count() > openings
        assert axe_violations(page) == []
