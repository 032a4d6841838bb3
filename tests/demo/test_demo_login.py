"""`make demo` stays two commands with the second factor required: the demo prints each demo
account's published TOTP secret and otpauth:// URI, and `madoguchi demo-code` shows the current
code of a demo account — and of no other account."""

from __future__ import annotations

import re
from base64 import b32decode
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.demo.city import DEMO_PASSWORD
from madoguchi.staff.models import Role, StaffUser
from tests import personas
from tests.conftest import current_totp_code
from tests.frozen_clock import DEMO_MORNING

pytestmark = [pytest.mark.django_db, pytest.mark.frozen_at(DEMO_MORNING)]

DEMO_COMMAND = personas.DemoCommand(residents=50, seed=3)
"""One run of the command for the module's tests (tests/personas.py keeps its rows) — the run
tests/demo/test_demo_day.py reads, at the same moment: tests/world_order.py puts both modules'
tests together, and the command runs once for the five."""


@pytest.fixture
def printed(demo_printed: str) -> str:
    return demo_printed


def test_the_demo_prints_each_accounts_secret_and_uri_and_they_sign_in(
    printed: str, frozen: Any
) -> None:
    for username in ("demo-manager", "demo-official", "demo-contractor"):
        block = printed[printed.index(f"ユーザー名 {username}") :]
        secret = re.search(r"秘密鍵 ([A-Z2-7 ]+)\n", block)
        uri = re.search(r"(otpauth://totp/madoguchi%3A" + username + r"\?\S+)", block)
        assert secret is not None and uri is not None, username
        raw = secret.group(1).replace(" ", "")
        assert f"secret={raw}" in uri.group(1)

        client = Client()
        response = client.post("/staff/login/", {"username": username, "password": DEMO_PASSWORD})
        assert response["Location"].startswith("/staff/otp/")
        app = TOTP(b32decode(raw + "=" * (-len(raw) % 8)))
        verified = client.post("/staff/otp/", {"code": f"{app.token():06d}"})
        assert verified["Location"] == "/staff/"
        assert client.get("/staff/").status_code == 200
    assert "demo-code" in printed


def test_the_demo_rollup_account_lands_on_the_rollup_and_sees_nothing_else(
    printed: str, frozen: Any
) -> None:
    assert "demo-rollup" in printed and "/staff/planning/rollup/" in printed
    device = TOTPDevice.objects.get(user__username="demo-rollup")
    client = Client()
    client.post("/staff/login/", {"username": "demo-rollup", "password": DEMO_PASSWORD})
    verified = client.post("/staff/otp/", {"code": current_totp_code(device)})
    assert verified["Location"] == "/staff/planning/rollup/"
    assert client.get("/staff/planning/rollup/").status_code == 200
    assert client.get("/staff/").status_code == 403
    assert client.get("/staff/planning/").status_code == 403


def test_demo_code_prints_the_current_code_of_a_demo_account_only(
    printed: str, frozen: Any
) -> None:
    out = StringIO()
    call_command("demo_code", "demo-official", stdout=out)
    device = TOTPDevice.objects.get(user__username="demo-official")
    assert out.getvalue().strip() == current_totp_code(device)

    real = StaffUser.objects.create_user("real-person", password="x", role=Role.OFFICIAL)
    TOTPDevice.objects.create(user=real, name="認証アプリ", confirmed=True)
    with pytest.raises(CommandError, match="デモ市のアカウントではありません"):
        call_command("demo_code", "real-person", stdout=StringIO())
    # A demo name whose device was re-enrolled (a secret that is not the published one).
    device.key = TOTPDevice().key
    device.save()
    with pytest.raises(CommandError):
        call_command("demo_code", "demo-official", stdout=StringIO())
