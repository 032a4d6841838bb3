"""The municipality's report and the roll-up, in Chromium: a manager saves the signed report
(the export form), the roll-up's statistics staff import a report run elsewhere and see a
tampered one refused (the upload form). Each page after a submit passes axe-core."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from madoguchi.forecasts import report_signing
from madoguchi.forecasts.models import ImportedReport
from madoguchi.forecasts.report import build_report, canonical_bytes, to_json
from madoguchi.staff.models import Role, StaffUser
from tests import live_worlds
from tests.conftest import axe_violations, sign_in_browser
from tests.forecasts.test_planning_pages import TODAY
from tests.frozen_clock import DEMO_MORNING, frozen_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "rollup-browser-pw"


def _signed_in_on_the_rollup(page: Any, live_server: Any, user: StaffUser) -> None:
    """`user` (the roll-up's statistics staff) signed in in `page`'s browser, nobody else, on
    the roll-up's page — the sign-in's own pages are walked, each form submitted, in
    tests/browser/test_staff_login.py; where it lands the roll-up's staff is
    tests/demo/test_demo_login.py's."""
    page.context.clear_cookies()
    sign_in_browser(page, live_server.url, user)
    page.goto(f"{live_server.url}/staff/planning/rollup/")


@pytest.fixture
def keys(settings: Any, tmp_path: Path) -> Path:
    settings.MADOGUCHI_REPORT_KEY_DIR = tmp_path / "keys"
    settings.MADOGUCHI_REPORT_TRUSTED_KEYS = tmp_path / "trusted.txt"
    return tmp_path


def test_a_manager_saves_the_signed_report(page: Any, live_server: Any, keys: Path) -> None:
    with frozen_at(DEMO_MORNING, tick=True):
        city = live_worlds.demo_city_signed_in(
            page, live_server.url, residents=200, seed=5, today=TODAY
        ).municipality
        page.goto(f"{live_server.url}/staff/planning/")
        page.click("text=自治体の報告書（署名付き）")
        assert city.code in page.locator("pre.public-key").inner_text()
        assert axe_violations(page) == []
        page.get_by_label("CSV").check()
        with page.expect_download() as download:
            page.get_by_role("button", name="報告書を保存する").click()
        saved = keys / "report.csv"
        download.value.save_as(saved)
        text = saved.read_bytes().decode("utf-8-sig")
        assert text.startswith("key,value")
        assert f"report.municipality.code,{city.code}" in text
        assert "signature.value," in text


def test_the_rollup_imports_a_report_and_refuses_a_tampered_one(
    page: Any, live_server: Any, keys: Path
) -> None:
    with frozen_at(DEMO_MORNING, tick=True):
        # The world the other demo-city browser tests keep (its manager signed in): one build.
        city = live_worlds.demo_city_signed_in(
            page, live_server.url, residents=200, seed=5, today=TODAY
        ).municipality
        rollup = StaffUser.objects.create_user(
            username="pref-rollup", password=PASSWORD, role=Role.ROLLUP, municipality=city
        )
        data = build_report(city, today=TODAY).dump()
        data["municipality"] = {**data["municipality"], "code": "011002", "name": "さっぽろ試験市"}
        public_key, value = report_signing.sign("011002", canonical_bytes(data))
        report_signing.register_public_key("011002", public_key)
        signature = {"algorithm": "Ed25519", "public_key": public_key, "value": value}
        good = keys / "sapporo.json"
        good.write_bytes(to_json({"report": data, "signature": signature}))
        tampered = json.loads(good.read_text(encoding="utf-8"))
        tampered["report"]["holding"]["card_holders"] += 100
        bad = keys / "tampered.json"
        bad.write_bytes(to_json(tampered))

        _signed_in_on_the_rollup(page, live_server, rollup)
        assert city.name in page.content()
        assert axe_violations(page) == []

        page.set_input_files("#id_file", str(good))
        page.get_by_role("button", name="取り込む").click()
        page.wait_for_load_state()
        assert (
            "さっぽろ試験市（011002）の2026-11-26時点の報告書を取り込みました。" in page.content()
        )
        assert page.get_by_role("cell", name="取り込んだ報告書").count() == 1
        assert axe_violations(page) == []
        assert ImportedReport.objects.count() == 1

        page.set_input_files("#id_file", str(bad))
        page.get_by_role("button", name="取り込む").click()
        page.wait_for_load_state()
        alert = page.get_by_role("alert").inner_text()
        assert "署名が報告書の内容と合いません" in alert
        assert axe_violations(page) == []
        assert ImportedReport.objects.count() == 1

        with page.expect_download() as download:
            page.click("text=自治体別の一覧をCSVで保存")
        rows = keys / "rollup.csv"
        download.value.save_as(rows)
        text = rows.read_bytes().decode("utf-8-sig")
        assert "さっぽろ試験市" in text and city.name in text


def test_the_rollup_role_trusts_a_key_on_the_screen_and_revokes_it(
    page: Any, live_server: Any, keys: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from madoguchi.forecasts.models import TrustedReportKey
    from tests.offices import factories as offices

    key = report_signing.public_key_text(Ed25519PrivateKey.generate().public_key())
    with frozen_at(DEMO_MORNING, tick=True):
        city = offices.municipality()
        rollup = StaffUser.objects.create_user(
            username="pref-keys", password=PASSWORD, role=Role.ROLLUP, municipality=city
        )
        _signed_in_on_the_rollup(page, live_server, rollup)
        page.click("text=信頼する報告書の公開鍵")
        page.wait_for_url(f"{live_server.url}/staff/planning/rollup/keys/")
        assert axe_violations(page) == []

        page.fill("#id_municipality_code", "011003")  # a wrong check digit
        page.fill("#id_public_key", key)
        page.get_by_role("button", name="登録する").click()
        page.wait_for_load_state()
        assert "検査数字" in page.get_by_role("alert").inner_text()
        assert axe_violations(page) == []
        assert not TrustedReportKey.objects.exists()

        page.fill("#id_municipality_code", "011002")
        page.fill("#id_public_key", key)
        page.fill("#id_note", "電話で読み合わせ")
        page.get_by_role("button", name="登録する").click()
        page.wait_for_url(f"{live_server.url}/staff/planning/rollup/keys/?done=added")
        assert "公開鍵を登録しました" in page.get_by_role("status").inner_text()
        assert page.get_by_role("cell", name=key).count() == 1
        assert axe_violations(page) == []
        assert report_signing.trusted_keys().for_code("011002") == {key}

        page.get_by_role("button", name="011002 の鍵を取り消す").click()
        page.wait_for_url(f"{live_server.url}/staff/planning/rollup/keys/?done=revoked")
        assert "公開鍵を取り消しました" in page.get_by_role("status").inner_text()
        assert axe_violations(page) == []
        assert report_signing.trusted_keys().for_code("011002") == frozenset()


def test_with_the_file_only_the_keys_screen_is_read_only_and_says_why(
    page: Any, live_server: Any, keys: Path, settings: Any
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from madoguchi.core.audit import Actor
    from madoguchi.forecasts import report_keys
    from tests.offices import factories as offices

    in_file, on_screen = (
        report_signing.public_key_text(Ed25519PrivateKey.generate().public_key()) for _ in range(2)
    )
    report_signing.register_public_key("011002", in_file)
    report_keys.trust_key("011002", on_screen, by=None, actor=Actor.system("test"))
    settings.MADOGUCHI_REPORT_KEYS_FILE_ONLY = True
    with frozen_at(DEMO_MORNING, tick=True):
        city = offices.municipality()
        rollup = StaffUser.objects.create_user(
            username="pref-file", password=PASSWORD, role=Role.ROLLUP, municipality=city
        )
        _signed_in_on_the_rollup(page, live_server, rollup)
        page.click("text=信頼する報告書の公開鍵")
        page.wait_for_url(f"{live_server.url}/staff/planning/rollup/keys/")
        assert "MADOGUCHI_REPORT_KEYS_FILE_ONLY" in page.locator("#file-only").inner_text()
        assert page.get_by_role("cell", name=in_file).count() == 1
        assert page.get_by_role("cell", name=on_screen).count() == 1  # listed, not used
        assert page.get_by_role("button", name="登録する").count() == 0
        assert page.get_by_role("button", name="011002 の鍵を取り消す").count() == 0
        assert page.locator("main form").count() == 0
        assert axe_violations(page) == []
        assert report_signing.trusted_keys().for_code("011002") == {in_file}
