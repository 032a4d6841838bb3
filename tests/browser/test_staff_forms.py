"""The card-pipeline and planning forms of the staff side in Chromium, each really submitted to a
live server (the demo city), each page after it at zero axe-core violations: import a J-LIS
delivery list, find a card and act on it, advance the stages in bulk, issue notices, register
weekly application counts, and the planning what-if and staffing calculations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from madoguchi.core import clock
from madoguchi.issuance.models import ApplicationCount, CardRecord, CardStatus, NoticeBatch
from tests import live_worlds
from tests.conftest import accessible
from tests.frozen_clock import frozen_at
from tests.issuance.factories import DELIVERIES_CSV

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 11, 26)
IMPORTED = "90210358112040000000101"


def test_a_manager_submits_every_card_pipeline_and_planning_form(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    with frozen_at(clock.at(TODAY, dt.time(10, 0)), tick=True):
        live_worlds.demo_city_signed_in(page, live_server.url, residents=200, seed=5, today=TODAY)

        # The J-LIS delivery list.
        deliveries = tmp_path / "deliveries.csv"
        deliveries.write_text(DELIVERIES_CSV, encoding="utf-8")
        page.goto(f"{live_server.url}/staff/issuance/import/")
        page.set_input_files("#id_file", str(deliveries))
        page.get_by_role("button", name="取り込む").click()
        assert page.get_by_role("heading", name="取り込みました").is_visible()
        accessible(page)
        card = CardRecord.objects.get(application_id=IMPORTED)
        assert card.status == CardStatus.DELIVERED

        # Find it, open it, act on it.
        page.goto(f"{live_server.url}/staff/issuance/")
        page.fill("#card-query", IMPORTED)
        page.locator("form[role=search] button[type=submit]").click()
        assert page.url == f"{live_server.url}/staff/issuance/cards/{card.pk}/"  # the one match
        accessible(page)
        page.get_by_role("button", name="検品済みにする").click()
        card.refresh_from_db()
        assert card.status == CardStatus.INSPECTED
        accessible(page)

        # The dashboard's bulk steps and the notices.
        page.goto(f"{live_server.url}/staff/issuance/")
        delivered = CardRecord.objects.filter(status=CardStatus.DELIVERED).count()
        assert delivered > 0
        page.get_by_role("button", name="古い順に最大500枚を検品済みにする").click()
        assert CardRecord.objects.filter(status=CardStatus.DELIVERED).count() == 0
        page.get_by_role("button", name="古い順に最大500枚を交付前設定済みにする").click()
        card.refresh_from_db()
        assert card.status == CardStatus.SETUP_DONE
        accessible(page)
        batches = NoticeBatch.objects.count()
        issue = page.get_by_role("button", name="交付通知書").filter(has_text="通を発行する")
        assert issue.is_enabled()
        issue.click()
        assert NoticeBatch.objects.count() == batches + 1
        accessible(page)

        # Weekly application counts.
        counts = tmp_path / "applications.csv"
        counts.write_text("week,applications\n2026-11-16,140\n2026-11-23,152\n", encoding="utf-8")
        page.set_input_files("#applications-file", str(counts))
        page.get_by_role("button", name="申請件数を登録する").click()
        assert ApplicationCount.objects.filter(week=dt.date(2026, 11, 23)).exists()
        accessible(page)

        # Planning: the what-if and the staffing calculation (GET forms).
        page.goto(f"{live_server.url}/staff/planning/")
        page.get_by_role("button", name="試算する").click()
        assert "?" in page.url
        assert page.get_by_role("heading", level=1).count() == 1
        accessible(page)
        page.goto(f"{live_server.url}/staff/planning/staffing/")
        page.get_by_role("button", name="計算する").click()
        assert "?" in page.url
        assert page.get_by_role("heading", level=1).count() == 1
        assert page.get_by_text("まだ計算されていません").count() == 1
        accessible(page)
        # 再計算 solves the plan for the same conditions and shows it
        page.get_by_role("button", name="再計算").click()
        assert "?" in page.url and "weeks=" in page.url
        assert page.get_by_text("まだ計算されていません").count() == 0
        assert page.locator("figure svg").count() == 1
        accessible(page)
        # the plan's cost as a subsidy claim, for the same conditions
        with page.expect_download() as download:
            page.get_by_role("link", name="補助金の申請の形（CSV）で保存").click()
        claim = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert claim.startswith("自治体,区分,年月・年度,")
        with page.expect_download() as download:
            page.get_by_role("link", name="Excel形式（XLSX）で保存").click()
        assert download.value.suggested_filename.endswith(".xlsx")
        assert Path(download.value.path()).read_bytes().startswith(b"PK")  # a zip: the workbook
