"""Staff sign-in in Chromium: the login form, the authenticator enrolment, backup codes, the
second-factor form and the lockout — each form submitted, every page at zero axe violations."""

from __future__ import annotations

import datetime as dt
from base64 import b32decode
from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.oath import TOTP

from madoguchi.core.models import AuditEvent
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import accessible
from tests.frozen_clock import frozen_at
from tests.issuance import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "kawa-sora-ringo-42"


@pytest.fixture
def traveller(live_server: Any) -> Iterator[Any]:
    with frozen_at(dt.datetime(2026, 6, 1, 0, 2, tzinfo=dt.UTC), tick=True) as moving:
        StaffUser.objects.create_user(
            "hanako", password=PASSWORD, role=Role.OFFICIAL, municipality=factories.municipality()
        )
        yield moving


def log_in(page: Any, password: str) -> None:
    page.fill("#id_username", "hanako")
    page.fill("#id_password", password)
    page.get_by_role("button", name="ログイン").click()


def test_enrol_then_sign_in_with_a_backup_code(live_server: Any, page: Any, traveller: Any) -> None:
    page.goto(f"{live_server.url}/staff/")
    assert page.url.startswith(f"{live_server.url}/staff/login/")
    accessible(page)
    log_in(page, "wrong-password-1")
    assert page.get_by_role("alert").inner_text() == "ユーザー名またはパスワードが違います。"
    accessible(page)

    page.fill("#id_username", "hanako")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    assert page.get_by_role("heading", level=1).inner_text() == "認証アプリの登録"
    assert page.locator("svg.qr").is_visible()
    assert page.locator("#otp-uri").inner_text().startswith("otpauth://totp/")
    accessible(page)
    secret = page.locator("#otp-secret").inner_text().replace(" ", "")
    app = TOTP(b32decode(secret + "=" * (-len(secret) % 8)))
    page.fill("#id_code", f"{app.token():06d}")
    page.get_by_role("button", name="登録する").click()

    assert page.get_by_role("heading", level=1).inner_text() == "予備コード"
    accessible(page)
    page.get_by_role("button", name="新しい予備コードを作る").click()
    codes = page.locator("ol.backup-codes code").all_inner_texts()
    assert len(codes) == 10
    accessible(page)
    page.get_by_role("link", name="続ける").click()
    assert page.url == f"{live_server.url}/staff/"
    accessible(page)

    page.get_by_role("button", name="ログアウト").click()
    log_in(page, PASSWORD)
    assert page.get_by_role("heading", level=1).inner_text() == "確認コードの入力"
    accessible(page)
    page.fill("#id_code", "000000")
    page.get_by_role("button", name="確認する").click()
    assert "コードが違います" in page.get_by_role("alert").inner_text()
    accessible(page)
    traveller.shift(dt.timedelta(seconds=2))  # django-otp's throttle after one wrong code
    page.fill("#id_code", codes[0])
    page.get_by_role("button", name="確認する").click()
    assert page.url == f"{live_server.url}/staff/"
    assert page.get_by_text("予備コードでログインしました（残り 9 個）。").is_visible()
    accessible(page)

    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "staff.login_failed",
        "staff.login",
        "staff.otp.enrolled",
        "staff.otp.backup_codes_generated",
        "staff.logout",
        "staff.login",
        "staff.otp.failed",
        "staff.otp.backup_code_used",
    ]


def test_the_lockout_says_how_long_to_wait(
    live_server: Any, page: Any, traveller: Any, settings: Any
) -> None:
    settings.MADOGUCHI_STAFF_LOGIN_LIMITS = {"account": (2, 900), "address": (20, 900)}
    page.goto(f"{live_server.url}/staff/login/")
    log_in(page, "wrong-password-1")
    log_in(page, "wrong-password-2")
    # Back to 00:02 of the same 15-minute window: however long the two failures took on a busy
    # machine, the lockout is judged 13 minutes before the window ends.
    traveller.move_to(dt.datetime(2026, 6, 1, 0, 2, tzinfo=dt.UTC))
    log_in(page, PASSWORD)
    alert = page.get_by_role("alert").inner_text()
    assert "このアカウントを一時的にロックしました。13 分ほど待ってから" in alert
    accessible(page)
