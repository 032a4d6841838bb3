"""The staff side in Chromium: the demo city's planning, issuance and queue pages pass axe-core
(WCAG 2.0/2.1 A and AA) too — staff work on them all day, some with screen readers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import live_worlds
from tests.conftest import axe_violations, current_totp_code
from tests.frozen_clock import DEMO_MORNING, frozen_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 11, 26)


def test_staff_pages_have_no_axe_violations(page: Any, live_server: Any) -> None:
    with frozen_at(DEMO_MORNING, tick=True):
        live_worlds.demo_city(residents=300, seed=5, today=TODAY)
        page.goto(f"{live_server.url}/staff/login/")
        page.fill("#id_username", "demo-manager")
        page.fill("#id_password", "madoguchi-demo")
        page.click("main button[type=submit]")
        # the second factor: the demo account's published authenticator secret
        device = TOTPDevice.objects.get(user__username="demo-manager", confirmed=True)
        page.fill("#id_code", current_totp_code(device))
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/staff/")
        for path in (
            "/staff/",
            "/staff/planning/",
            "/staff/planning/staffing/",
            "/staff/issuance/",
            "/staff/queue/",
        ):
            page.goto(f"{live_server.url}{path}")
            assert page.get_by_role("heading", level=1).count() == 1, path
            violations = axe_violations(page)
            assert violations == [], f"{path}: {violations}"
