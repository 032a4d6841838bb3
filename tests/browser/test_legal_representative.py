"""In Chromium, JavaScript on and off: a child's card pick-up booked on the residents' pages —
the reservation page right after the booking and the one the look-up opens say that a legal
representative comes along; axe-core finds nothing on either."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.reservations.models import Reservation
from tests.browser.booking_pages import book_through_pages, june_city
from tests.conftest import accessible
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import NOTICE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHILD = dt.date(2015, 1, 20)  # 11 in June 2026
SAYS = "ご予約の方は来庁日に15歳未満のため、法定代理人（親権者など）が同行してください。"


@pytest.fixture
def city(live_server: Any) -> Iterator[factories.City]:
    with frozen_at(factories.NOW, tick=True):
        yield june_city(birth=CHILD)


def fill_birth_date(page: Any) -> None:
    page.select_option("#id_birth_date_year", str(CHILD.year))
    page.select_option("#id_birth_date_month", str(CHILD.month))
    page.select_option("#id_birth_date_day", str(CHILD.day))


def fill_notice_and_birth_date(page: Any) -> None:
    page.fill("#id_notice_number", NOTICE)
    fill_birth_date(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_the_reservation_page_says_a_legal_representative_comes_along(
    live_server: Any, chromium: Any, city: factories.City, javascript: bool
) -> None:
    context = chromium.new_context(
        java_script_enabled=javascript, locale="ja-JP", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/book/card_pickup/?notice={NOTICE}")
        book_through_pages(page, "みどり本庁舎", fill=fill_notice_and_birth_date)
        booked = Reservation.objects.get()
        assert page.locator(".summary .code").inner_text() == booked.code
        notice = page.locator(".legal-representative")
        assert notice.inner_text() == SAYS
        assert notice.is_visible()
        accessible(page)

        # Another browser, by the look-up form.
        context.clear_cookies()
        page.goto(f"{live_server.url}/lookup/")
        page.fill("#id_code", booked.code)
        fill_birth_date(page)
        page.get_by_role("button", name="予約を表示する").click()
        assert page.locator(".summary .code").inner_text() == booked.code
        assert page.locator(".legal-representative").inner_text() == SAYS
        accessible(page)
    finally:
        context.close()
