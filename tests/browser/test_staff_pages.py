"""The staff side in Chromium: the demo city's planning, issuance and queue pages pass axe-core
(WCAG 2.0/2.1 A and AA) too — staff work on them all day, some with screen readers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests import live_worlds
from tests.conftest import axe_violations
from tests.frozen_clock import DEMO_MORNING, frozen_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 11, 26)


def test_staff_pages_have_no_axe_violations(page: Any, live_server: Any) -> None:
    with frozen_at(DEMO_MORNING, tick=True):
        live_worlds.demo_city_signed_in(page, live_server.url, residents=200, seed=5, today=TODAY)
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
