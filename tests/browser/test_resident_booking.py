"""Done-when: a resident books, reschedules and cancels in Debian's Chromium, every page at zero
axe-core violations (JIS X 8341-3 AA); and a phone with JavaScript off completes a booking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.reservations.models import Reservation, ReservationStatus
from tests.browser.booking_pages import book_through_pages, june_city, send_booking
from tests.conftest import accessible
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(live_server: Any) -> Iterator[factories.City]:
    # tick=True: the clock runs on from NOW, so the browser's timeouts behave normally.
    with frozen_at(factories.NOW, tick=True):
        yield june_city()


def fill_birth_date(page: Any) -> None:
    page.select_option("#id_birth_date_year", str(BIRTH.year))
    page.select_option("#id_birth_date_month", str(BIRTH.month))
    page.select_option("#id_birth_date_day", str(BIRTH.day))


def fill_notice_and_birth_date(page: Any) -> None:
    page.fill("#id_notice_number", NOTICE)
    fill_birth_date(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_resident_books_looks_up_reschedules_and_cancels_with_javascript_on_and_off(
    live_server: Any, chromium: Any, city: factories.City, javascript: bool
) -> None:
    """One booking's whole life on a phone. With JavaScript on, from the home page and the
    notice's QR code through a mistake to the booking, every page checked by axe-core; with it
    off, from the list of procedures to the booking (a phone without JavaScript completes one).
    Then, on and off: the look-up form (a typo first, then the notice number), the reschedule
    and the cancel forms, each submitted; a fresh session still finds the cancelled booking by
    its code."""
    context = chromium.new_context(
        java_script_enabled=javascript, locale="ja-JP", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        if javascript:
            page.goto(live_server.url + "/")
            accessible(page)
            page.goto(live_server.url + "/book/")
            accessible(page)
            # The notice's QR code opens the booking with the procedure and the notice number.
            page.goto(f"{live_server.url}/book/card_pickup/?notice={NOTICE}")
            accessible(page)
            book_through_pages(page, "みどり本庁舎", each=accessible)  # month, day, who
            assert page.input_value("#id_notice_number") == NOTICE

            # A mistake first: the error summary and the field say what to fix, accessible.
            page.fill("#id_notice_number", "AB12")
            fill_birth_date(page)
            page.get_by_role("button", name="確認画面へ進む").click()
            assert page.get_by_role("alert").is_visible()
            accessible(page)

            page.fill("#id_notice_number", "ａｂｃ１２３４５６")  # full-width, as a phone may
            fill_birth_date(page)
            send_booking(page, each=accessible)  # the confirmation, the reservation
            assert "交付通知書" in page.locator(".documents").inner_text()
        else:
            page.goto(f"{live_server.url}/book/")
            page.get_by_role("link", name="マイナンバーカードの受け取り").click()
            book_through_pages(page, "みどり本庁舎", fill=fill_notice_and_birth_date)

        booked = Reservation.objects.get()
        assert page.locator(".summary .code").inner_text() == booked.code
        assert booked.status == ReservationStatus.BOOKED
        first_slot = booked.slot_id

        page.goto(f"{live_server.url}/lookup/")
        accessible(page)
        page.fill("#id_code", "XXXX")
        fill_birth_date(page)
        page.get_by_role("button", name="予約を表示する").click()
        assert page.get_by_role("alert").is_visible()
        accessible(page)
        # The notice number finds the card's booking too (交付通知書番号 or 予約コード).
        page.fill("#id_code", "abc-123456")
        fill_birth_date(page)
        page.get_by_role("button", name="予約を表示する").click()
        assert page.locator(".summary .code").inner_text() == booked.code
        accessible(page)

        page.get_by_role("link", name="日時を変更する").click()
        if javascript:
            accessible(page)
        page.locator("table.month a").nth(1).click()
        if javascript:
            accessible(page)
        page.locator("a.time-choice").first.click()
        accessible(page)
        page.get_by_role("button", name="この日時に変更する").click()
        assert page.get_by_text("予約の日時を変更しました。").is_visible()
        if javascript:
            accessible(page)
        booked.refresh_from_db()
        assert booked.slot_id != first_slot

        page.get_by_role("link", name="予約を取り消す").click()
        accessible(page)
        page.get_by_role("button", name="予約を取り消す").click()
        assert page.get_by_role("heading", name="この予約は取り消されています").is_visible()
        accessible(page)
        booked.refresh_from_db()
        assert booked.status == ReservationStatus.CANCELLED
        if javascript:
            page.goto(f"{live_server.url}/lookup/?code={booked.code}")
            accessible(page)

        # In a fresh session the booking code still opens the cancelled booking.
        context.clear_cookies()
        page.goto(f"{live_server.url}/lookup/")
        page.fill("#id_code", booked.code.lower())
        fill_birth_date(page)
        page.get_by_role("button", name="予約を表示する").click()
        assert page.get_by_role("heading", name="この予約は取り消されています").is_visible()
    finally:
        context.close()
