"""A counter day walked in Chromium up to closing time and across midnight: a walk-in taken on a
phone, a booked visitor checked in, called, transferred to the other counter and served, a
walk-in called who never comes (不在 → no-show), a walk-in still waiting at closing time, and a
booked pick-up nobody came for. The waiting-room display (left on, never reloaded) and the
phones' ticket pages agree with the desk at each step; after midnight — before and after the
nightly close-queue-days at 00:05 — nothing of yesterday is called or waited for, and the next
morning starts at number 1 with yesterday's pick-up bookable again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.staff.models import StaffUser
from madoguchi.walkins.models import QueueTicket, TicketChannel, TicketStatus
from madoguchi.walkins.services import issue_ticket
from tests.browser.counter_days import booked_day
from tests.browser.displays import CATCHES_UP_MS, SameDocument, next_poll, open_on_clock
from tests.conftest import accessible, sign_in_browser
from tests.resident_site.factories import VISIT_DAY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEXT_DAY = VISIT_DAY + dt.timedelta(days=1)


@pytest.fixture
def day(live_server: Any) -> Iterator[dict[str, Any]]:
    """The pick-up at 10:00 (nobody comes), a certificate renewal at 16:00; the clock at 15:50."""
    with booked_day("16:00", dt.time(15, 50)) as booked:
        yield booked


def test_a_counter_day_runs_into_the_night_and_the_next_morning_starts_clean(
    live_server: Any, chromium: Any, day: dict[str, Any]
) -> None:
    city, pickup, renewal, traveller = day["city"], day["pickup"], day["renewal"], day["traveller"]
    site = city.site

    def at(when: dt.date, hour: int, minute: int) -> None:
        traveller.move_to(clock.at(when, dt.time(hour, minute)))

    phone_context = chromium.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    tv_context = chromium.new_context(locale="ja-JP", viewport={"width": 1920, "height": 1080})
    desk_context = chromium.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    try:
        phone, tv, desk = phone_context.new_page(), tv_context.new_page(), desk_context.new_page()
        open_on_clock(tv, f"{live_server.url}/queue/sites/{site.pk}/")  # polls at `next_poll`
        tv_document = SameDocument(tv)

        # 15:50 — a walk-in takes B1 on the phone; another (B2) at the desk's request.
        phone.goto(f"{live_server.url}/queue/sites/{site.pk}/take/")
        phone.get_by_label("電子証明書の更新").check()
        phone.get_by_role("button", name="整理券を受け取る").click()
        b1 = QueueTicket.objects.get(channel=TicketChannel.PHONE)
        b1_page = phone.url
        b2 = issue_ticket(site=site, procedure=city.renewal, actor=Actor.resident())
        assert (b1.label, b2.label) == ("B1", "B2")
        next_poll(tv)
        tv.locator(".next-numbers", has_text="B2").wait_for(timeout=CATCHES_UP_MS)

        # The desk signs in (both steps; tests/browser/test_staff_login.py walks their pages)
        # and checks the 16:00 renewal in (B3).
        sign_in_browser(desk, live_server.url, StaffUser.objects.get(username="official"))
        desk.goto(f"{live_server.url}/staff/sites/{site.pk}/")
        desk.get_by_role("button", name=f"受付 {renewal.code}").click()
        b3 = QueueTicket.objects.get(reservation=renewal)
        assert b3.label == "B3"

        def call(counter: str, expected: str) -> None:
            desk.get_by_role("button", name=f"{counter}に次の方を呼ぶ").click()
            assert desk.get_by_text(f"{expected}番を{counter}にお呼びしました。").is_visible()
            next_poll(tv)
            tv.locator("[data-calling] td.number", has_text=expected).wait_for(
                timeout=CATCHES_UP_MS
            )

        # 16:00 — the booked renewal first at counter 1, the first walk-in at counter 2.
        at(VISIT_DAY, 16, 0)
        desk.goto(f"{live_server.url}/staff/queue/sites/{site.pk}/")
        call("1番", "B3")
        call("2番", "B1")
        phone.goto(b1_page)
        assert (
            "お呼び出し中です。2番へお越しください。"
            in phone.locator(".ticket-status").inner_text()
        )

        # B3 sits down at 1, is transferred to counter 2 (a question only 2 answers) ...
        desk.get_by_role("button", name="B3番の対応を開始").click()
        desk.locator("summary", has_text="B3番を回付").click()
        desk.select_option(f"#transfer-{b3.pk}-counter", label="2番")
        desk.get_by_role("button", name="B3番を回付する").click()
        b3.refresh_from_db()
        assert b3.status == TicketStatus.WAITING
        assert b3.transfer_counter is not None and b3.transfer_counter.name == "2番"
        accessible(desk)

        # ... B1 never comes to counter 2: 不在 until the ticket ends as a no-show.
        at(VISIT_DAY, 16, 10)
        for _ in range(5):
            b1.refresh_from_db()
            if b1.status == TicketStatus.NO_SHOW:
                break
            desk.get_by_role("button", name="B1番は不在").click()
        assert b1.status == TicketStatus.NO_SHOW
        phone.reload()
        assert "お見えにならなかった" in phone.locator(".ticket-status").inner_text()

        # Counter 2 takes the transferred B3 first (ahead of the waiting B2) and serves it.
        call("2番", "B3")
        desk.get_by_role("button", name="B3番の対応を開始").click()
        at(VISIT_DAY, 16, 25)
        desk.get_by_role("button", name="B3番の対応を終了").click()
        renewal.refresh_from_db()
        assert renewal.status == ReservationStatus.SERVED

        # 17:15 closes with B2 still waiting; the display still shows B2 as next.
        at(VISIT_DAY, 17, 20)
        next_poll(tv)
        tv.locator(".next-numbers", has_text="B2").wait_for(timeout=CATCHES_UP_MS)
        b2_page = f"{live_server.url}/queue/tickets/{b2.token}/"

        # 00:01 — before the nightly job: the display left on shows nobody called or waiting,
        # B2's page says its day is over, and nobody can be called on yesterday's tickets.
        at(NEXT_DAY, 0, 1)
        next_poll(tv)
        tv.locator("[data-calling-empty]").wait_for(state="visible", timeout=CATCHES_UP_MS)
        tv.locator(".next-numbers", has_text="B2").wait_for(state="detached", timeout=CATCHES_UP_MS)
        phone.goto(b2_page)
        assert "を過ぎたため使えません" in phone.locator(".ticket-status").inner_text()
        accessible(phone)

        # 00:05 — the nightly job ends yesterday: B2 cancelled, the pick-up nobody came for a
        # no-show, whose card can be booked again.
        at(NEXT_DAY, 0, 5)
        out = StringIO()
        call_command("close_queue_days", stdout=out)
        b2.refresh_from_db()
        pickup.refresh_from_db()
        assert b2.status == TicketStatus.CANCELLED
        assert pickup.status == ReservationStatus.NO_SHOW
        card = CardRecord.objects.get(notice_number="ABC123456")  # the pick-up's (n=0)
        assert (card.status, card.reservation_code) == (CardStatus.NOTICE_ISSUED, "")
        phone.goto(b2_page)
        assert "取り消されました" in phone.locator(".ticket-status").inner_text()

        # 8:35 — the next morning starts at B1 again; the display shows only today's.
        at(NEXT_DAY, 8, 35)
        phone_context.clear_cookies()  # the phone's one-ticket-a-minute cookie is yesterday's
        phone.goto(f"{live_server.url}/queue/sites/{site.pk}/take/")
        phone.get_by_label("電子証明書の更新").check()
        phone.get_by_role("button", name="整理券を受け取る").click()
        today = QueueTicket.objects.get(business_day=NEXT_DAY)
        assert today.label == "B1"
        assert "待ち時間の目安" in phone.locator(".ticket-status").inner_text()
        next_poll(tv)
        tv.locator(".next-numbers", has_text="B1").wait_for(timeout=CATCHES_UP_MS)
        assert tv.locator("[data-calling-empty]").is_visible()
        accessible(tv)
        assert not tv_document.reloaded()  # the display showed the whole night by itself

        # The desk (signed in again: the night was longer than the idle limit) sees yesterday
        # closed — served, no-show — and today's new ticket on the calling page.
        sign_in_browser(desk, live_server.url, StaffUser.objects.get(username="official"))
        desk.goto(f"{live_server.url}/staff/sites/{site.pk}/?day={VISIT_DAY.isoformat()}")
        rows = desk.locator("tbody tr")
        assert rows.filter(has_text=pickup.code).filter(has_text="来庁なし").count() == 1
        assert rows.filter(has_text=renewal.code).filter(has_text="完了").count() == 1
        assert Reservation.objects.get(pk=renewal.pk).status == ReservationStatus.SERVED
        accessible(desk)
        desk.goto(f"{live_server.url}/staff/queue/sites/{site.pk}/")
        assert desk.get_by_role("button", name="B1番を取り消す").is_visible()
        assert desk.get_by_role("button", name="B2番を取り消す").count() == 0
        accessible(desk)
    finally:
        for context in (phone_context, tv_context, desk_context):
            context.close()
