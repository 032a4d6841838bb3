"""The counter console in Chromium: log in, see the day, check a visitor in, open their queue
slip and the calling page; zero axe issues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.core import clock
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import axe_violations, current_totp_code
from tests.frozen_clock import frozen_at
from tests.resident_site import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def booked(live_server: Any) -> Iterator[Reservation]:
    with frozen_at(factories.NOW, tick=True) as traveller:
        city = factories.city()
        reservation = factories.book_card_pickup(city)
        user = StaffUser.objects.create_user(
            "official", password="pw-for-tests", role=Role.OFFICIAL, municipality=city.municipality
        )
        user.sites.set([city.site])
        TOTPDevice.objects.create(user=user, name="認証アプリ", confirmed=True)
        traveller.move_to(clock.at(factories.VISIT_DAY, dt.time(9, 50)))
        yield reservation


def test_official_checks_a_visitor_in(live_server: Any, page: Any, booked: Reservation) -> None:
    page.goto(f"{live_server.url}/staff/")
    assert axe_violations(page) == []
    page.fill("#id_username", "official")
    page.fill("#id_password", "pw-for-tests")
    page.get_by_role("button", name="ログイン").click()
    assert axe_violations(page) == []
    device = TOTPDevice.objects.get(user__username="official")
    page.fill("#id_code", current_totp_code(device))
    page.get_by_role("button", name="確認する").click()
    assert axe_violations(page) == []
    page.get_by_role("link", name="今日の予約").first.click()
    assert axe_violations(page) == []
    page.get_by_role("button", name=f"受付 {booked.code}").click()
    assert page.get_by_text(f"{booked.code}：受付しました").is_visible()
    assert axe_violations(page) == []
    booked.refresh_from_db()
    assert booked.status == ReservationStatus.CHECKED_IN

    # The day view links the visitor's queue slip: number and QR code, printable.
    page.get_by_role("link", name=f"受付票 {booked.code}").click()
    assert page.locator("#slip-number").inner_text() == str(booked.queue_ticket.number)
    assert page.locator("svg.qr").is_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="呼び出しの画面に戻る").click()
    assert page.get_by_text("予約", exact=True).is_visible()
    assert axe_violations(page) == []
