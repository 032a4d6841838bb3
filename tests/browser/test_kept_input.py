"""A staff form sent after the session ran out, in Chromium: the sign-in again leads back to the
page, the form holds what the clerk typed with a message to check it, and sending it then does
the work (decision 0032) — every page at zero axe violations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.models import KioskDevice
from tests.conftest import accessible, pass_second_factor, sign_in_browser
from tests.frozen_clock import frozen_at
from tests.offices import factories as offices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any) -> None:
    page.fill("#id_username", "kanri")
    page.fill("#id_password", "pw-for-tests")
    page.get_by_role("button", name="ログイン").click()
    pass_second_factor(page, "kanri")


def test_a_form_sent_after_the_timeout_is_found_again_filled_in(
    live_server: Any, page: Any
) -> None:
    with frozen_at(dt.datetime(2026, 6, 1, 0, 2, tzinfo=dt.UTC), tick=True) as traveller:
        owner = offices.municipality()
        manager = StaffUser.objects.create_user(
            "kanri", password="pw-for-tests", role=Role.MANAGER, municipality=owner
        )
        url = f"{live_server.url}/staff/queue/sites/{offices.site(owner).pk}/kiosks/"
        # Signed in at the start as any staff test is (test_staff_login.py walks that sign-in);
        # the sign-in after the timeout is this test's, through its pages.
        sign_in_browser(page, live_server.url, manager)
        page.goto(url)
        page.get_by_label("発行機の名前（置き場所）").fill("北口の受付台")

        traveller.shift(dt.timedelta(minutes=31))  # the clerk was away from the desk
        page.get_by_role("button", name="登録して登録用リンクを出す").click()
        assert page.url.startswith(f"{live_server.url}/staff/login/")
        assert page.get_by_text("操作のない時間が続いたため、ログアウトしました。").is_visible()
        assert not KioskDevice.objects.exists()

        sign_in(page)
        assert page.url == url
        assert page.get_by_label("発行機の名前（置き場所）").input_value() == "北口の受付台"
        assert page.get_by_text(
            "ログアウトの前に入力された内容をフォームに戻しました。"
        ).is_visible()
        accessible(page)
        page.get_by_role("button", name="登録して登録用リンクを出す").click()
        assert "/queue/kiosk/activate/" in page.locator("#activation-link").inner_text()
        assert KioskDevice.objects.get().name == "北口の受付台"
