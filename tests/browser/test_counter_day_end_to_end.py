"""The whole counter day in one Chromium browser: a resident takes a walk-in ticket on a phone,
the waiting-room display is open on the TV, and staff — signed in through both steps — check
in the booked visitors, call them and the walk-in, hand a card over on the hand-over screen,
finish the walk-in and mark a certificate renewal done. The display shows every called number
at its next poll (every 3 seconds) without being reloaded, the phone's ticket page follows its
state, and at the end the statistics page shows the day (served, appointments and walk-ins,
waits).

This is issue 14's "done when" test; the pieces are tested one by one in
tests/browser/test_counter_day.py and tests/queue_board/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.core import clock
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.staff.models import StaffUser
from madoguchi.walkins.models import QueueTicket, TicketChannel, TicketStatus
from tests.browser.counter_days import booked_day
from tests.browser.displays import (
    CATCHES_UP_MS,
    SameDocument,
    forget_highlights,
    highlighted,
    next_poll,
    open_on_clock,
    record_highlights,
)
from tests.conftest import accessible, sign_in_browser
from tests.resident_site.factories import VISIT_DAY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def day(live_server: Any) -> Iterator[dict[str, Any]]:
    """The pick-up at 10:00 and a certificate renewal at 10:20; the clock at 9:50."""
    with booked_day("10:20", dt.time(9, 50)) as booked:
        yield booked


def _ticket_of(booking: Reservation) -> QueueTicket:
    return QueueTicket.objects.get(reservation=booking)


def test_a_resident_watches_their_ticket_called_while_staff_serve_the_day(
    live_server: Any, chromium: Any, day: dict[str, Any]
) -> None:
    city, pickup, renewal, traveller = day["city"], day["pickup"], day["renewal"], day["traveller"]
    site = city.site

    def at(hour: int, minute: int) -> None:
        traveller.move_to(clock.at(VISIT_DAY, dt.time(hour, minute)))

    phone_context = chromium.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    tv_context = chromium.new_context(locale="ja-JP", viewport={"width": 1920, "height": 1080})
    desk_context = chromium.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    try:
        phone, tv, desk = phone_context.new_page(), tv_context.new_page(), desk_context.new_page()

        # 9:50 — the resident takes a walk-in ticket for a certificate renewal on their phone.
        phone.goto(f"{live_server.url}/queue/sites/{site.pk}/take/")
        phone.get_by_label("電子証明書の更新").check()
        phone.get_by_role("button", name="整理券を受け取る").click()
        walk_in = QueueTicket.objects.get(channel=TicketChannel.PHONE)
        assert walk_in.label == "B1"
        assert phone.url == f"{live_server.url}/queue/tickets/{walk_in.token}/"
        assert phone.locator(".ticket-number").inner_text() == "B1"
        assert "待ち時間の目安" in phone.locator(".ticket-status").inner_text()
        accessible(phone)

        # The waiting-room display is on, with nobody called yet.
        open_on_clock(tv, f"{live_server.url}/queue/sites/{site.pk}/")  # polls at `next_poll`
        tv_document = SameDocument(tv)
        record_highlights(tv)
        assert tv.locator("[data-calling-empty]").is_visible()
        assert "B1" in tv.locator(".next-numbers").inner_text()

        # Staff signed in (test_staff_login.py walks the sign-in) check both visitors in.
        sign_in_browser(desk, live_server.url, StaffUser.objects.get(username="official"))
        desk.goto(f"{live_server.url}/staff/sites/{site.pk}/")
        desk.get_by_role("button", name=f"受付 {pickup.code}").click()
        desk.get_by_role("button", name=f"受付 {renewal.code}").click()
        assert _ticket_of(pickup).label == "A1"
        assert _ticket_of(renewal).label == "B2"
        accessible(desk)

        def call(counter: str, expected: str) -> None:
            forget_highlights(tv)  # only what this call draws
            desk.get_by_role("button", name=f"{counter}に次の方を呼ぶ").click()
            assert desk.get_by_text(f"{expected}番を{counter}にお呼びしました。").is_visible()
            next_poll(tv)  # the display's own timer, brought forward: no reload
            fresh = highlighted(tv, expected)
            assert fresh["number"] == expected
            assert counter in fresh["counter"]

        # 10:00 — the 10:00 pick-up is called first (booked visitors at their time), then the
        # walk-in fills the second counter (the 10:20 renewal is not due before 10:05).
        at(10, 0)
        desk.goto(f"{live_server.url}/staff/queue/sites/{site.pk}/")
        call("1番", "A1")
        call("2番", "B1")
        assert tv.locator("[data-announce]").inner_text() == "B1番 2番"
        accessible(tv)
        phone.reload()
        assert (
            "お呼び出し中です。2番へお越しください。"
            in phone.locator(".ticket-status").inner_text()
        )
        accessible(phone)

        # 10:01 — the walk-in sits down at counter 2.
        at(10, 1)
        desk.get_by_role("button", name="B1番の対応を開始").click()
        phone.reload()
        assert "2番で対応中です。" in phone.locator(".ticket-status").inner_text()

        # The card pick-up at counter 1: the hand-over screen, compared with the ID, handed over.
        desk.goto(f"{live_server.url}/staff/sites/{site.pk}/")
        desk.get_by_role("link", name=f"交付の画面へ {pickup.code}").click()
        card = CardRecord.objects.get(reservation_code=pickup.code)
        assert desk.locator(".holder-name").inner_text() == card.full_name
        accessible(desk)
        desk.get_by_label("ご本人", exact=True).check()
        desk.get_by_label("運転免許証・運転経歴証明書").check()
        desk.get_by_label("旧カードを回収し、穴を開けて無効にした").check()
        desk.get_by_label("ご本人が端末で暗証番号を設定した").check()
        desk.get_by_label("署名用・利用者証明用の電子証明書を発行した").check()
        desk.get_by_label(
            "券面の氏名・生年月日・住所と本人確認書類が一致することを確認しました"
        ).check()
        at(10, 12)
        desk.get_by_role("button", name="交付する").click()
        assert desk.get_by_text(f"{pickup.code}：カードを交付し、完了にしました").is_visible()
        card.refresh_from_db()
        assert card.status == CardStatus.HANDED_OVER
        assert _ticket_of(pickup).status == TicketStatus.DONE

        # 10:15 — the walk-in is finished at counter 2; their phone says so.
        at(10, 15)
        desk.goto(f"{live_server.url}/staff/queue/sites/{site.pk}/")
        desk.get_by_role("button", name="B1番の対応を終了").click()
        assert desk.get_by_text("B1番の対応を終了しました。").is_visible()
        phone.reload()
        assert "手続きは終わりました" in phone.locator(".ticket-status").inner_text()
        accessible(phone)

        # 10:16 — counter 2 calls the booked renewal; it is marked done from the day view.
        at(10, 16)
        call("2番", "B2")
        at(10, 24)
        desk.goto(f"{live_server.url}/staff/sites/{site.pk}/")
        desk.get_by_role("button", name=f"完了 {renewal.code}").click()
        renewal.refresh_from_db()
        assert renewal.status == ReservationStatus.SERVED
        assert _ticket_of(renewal).status == TicketStatus.DONE
        pickup.refresh_from_db()
        assert pickup.status == ReservationStatus.SERVED

        # The display: nobody at a counter, nobody waiting — all of it shown by itself.
        next_poll(tv)
        tv.locator("[data-calling-empty]").wait_for(state="visible", timeout=CATCHES_UP_MS)
        assert not tv_document.reloaded()

        # The statistics page shows the day: three served, two booked and one walk-in, waits.
        desk.goto(f"{live_server.url}/staff/queue/stats/")
        cells = desk.locator("tfoot tr td").all_inner_texts()
        tickets, served, no_shows, booked, walk_ins, wait_mean, wait_p90 = cells[:7]
        assert (tickets, served, no_shows, booked, walk_ins) == ("3", "3", "0", "2", "1")
        # Waits (issue → first call): B1 9:50 → 10:00, A1 and B2 checked in about 9:50 and
        # called at 10:00 and 10:16 — minutes, not the seconds the browser steps take.
        assert 8.0 <= float(wait_mean) <= 16.0, cells
        assert float(wait_p90) >= float(wait_mean), cells
        assert desk.get_by_role("cell", name="電子証明書の更新").first.is_visible()
        assert desk.locator("svg.chart").is_visible()
        accessible(desk)
    finally:
        for context in (phone_context, tv_context, desk_context):
            context.close()
