"""In Chromium: the entrance kiosk (JavaScript on and off), the staff calling page's forms
(issue, call, recall, transfer, serve, finish, no-show — each really submitted), and the
waiting-room display updating by itself after a call; axe-core finds nothing on any page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.core.audit import Actor
from madoguchi.queue_board import views
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.kiosks import COOKIE_NAME, register_kiosk
from madoguchi.walkins.models import (
    KioskDevice,
    QueueSettings,
    QueueTicket,
    TicketChannel,
    TicketStatus,
)
from madoguchi.walkins.services import call_next_ticket, issue_ticket
from tests import live_worlds
from tests.browser.displays import (
    CATCHES_UP_MS,
    LONGEST_RETRY_MS,
    SameDocument,
    highlighted,
    highlights,
    next_poll,
    open_on_clock,
    record_highlights,
)
from tests.conftest import accessible, sign_in_browser
from tests.frozen_clock import frozen_at
from tests.walkins.conftest import TUESDAY, Hall, jst, make_hall
from tests.walkins.factories import kiosk_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_hall(live_server: Any) -> Iterator[Hall]:
    with frozen_at(jst(10), tick=True):
        yield live_worlds.committed((__name__, "open_hall"), make_hall)


@pytest.fixture(params=[True, False], ids=["js-on", "js-off"])
def tablet(request: pytest.FixtureRequest, chromium: Any) -> Iterator[tuple[Any, bool]]:
    context = chromium.new_context(
        java_script_enabled=request.param, locale="ja-JP", viewport={"width": 1024, "height": 768}
    )
    yield context.new_page(), request.param
    context.close()


def test_the_kiosk_issues_a_ticket_shows_it_and_returns_to_the_start(
    live_server: Any, tablet: tuple[Any, bool], open_hall: Hall
) -> None:
    from playwright.sync_api import expect

    page, js = tablet
    if js:  # the ticket screen's countdown runs on Playwright's clock (see below)
        page.clock.install()
    start = f"{live_server.url}/queue/sites/{open_hall.site.pk}/kiosk/"
    # Before it is registered, the tablet is refused like any phone.
    page.goto(start)
    assert page.get_by_role("alert").inner_text().startswith("この画面は、庁舎の入口に置かれた")
    assert page.get_by_role("button", name="電子証明書の更新").count() == 0
    accessible(page)
    # A manager registered it; the one-time link is opened on the tablet and confirmed.
    _device, token = register_kiosk(
        site=open_hall.site, name="正面入口", actor=Actor("staff:1:manager")
    )
    page.goto(f"{live_server.url}/queue/kiosk/activate/{token}/")
    accessible(page)
    page.get_by_role("button", name="この端末を発行機にする").click()
    assert page.url == start
    accessible(page)
    button = page.get_by_role("button", name="電子証明書の更新")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 300  # a touch target
    # The ticket screen is read with the production countdown (KIOSK_RETURN_SECONDS): a shorter
    # one let kiosk.js take the page back to the start while a slow machine was still reading
    # it (the number, the print button, axe-core).
    button.click()

    ticket = QueueTicket.objects.get()
    assert (ticket.channel, ticket.procedure_id) == (TicketChannel.KIOSK, open_hall.cert_renewal.pk)
    assert page.url == f"{live_server.url}/queue/kiosk/tickets/{ticket.token}/"
    assert page.locator("#kiosk-number").inner_text() == ticket.label
    assert page.locator("svg.qr").is_visible()
    print_button = page.get_by_role("button", name="印刷する")
    if js:  # kiosk.js shows it
        expect(print_button).to_be_visible()
    else:
        expect(print_button).to_be_hidden()
    accessible(page)
    page.get_by_role("link", name="最初の画面に戻る").click()
    assert page.url == start

    # The next visitor takes the next number on the same tablet; with JavaScript the ticket
    # screen goes back to the start by itself when its countdown has run: the page's clock is
    # run through the production KIOSK_RETURN_SECONDS, one tick of its timer a second.
    page.get_by_role("button", name="カードの受け取り").click()
    second = QueueTicket.objects.latest("pk")
    assert (second.number, second.channel) == (2, TicketChannel.KIOSK)
    if js:
        assert page.url == f"{live_server.url}/queue/kiosk/tickets/{second.token}/"
        page.clock.run_for(views.KIOSK_RETURN_SECONDS * 1000)
        page.wait_for_url(start)
    else:
        assert page.url == f"{live_server.url}/queue/kiosk/tickets/{second.token}/"
        assert page.locator("#kiosk-number").inner_text() == second.label


def test_staff_issue_call_recall_transfer_serve_finish_and_no_show(
    live_server: Any, page: Any, open_hall: Hall
) -> None:
    QueueSettings.objects.create(site=open_hall.site, recalls_before_no_show=1)
    user = StaffUser.objects.create_user(
        "official",
        password="pw-for-tests",
        role=Role.OFFICIAL,
        municipality=open_hall.site.municipality,
    )
    user.sites.set([open_hall.site])
    sign_in_browser(page, live_server.url, StaffUser.objects.get(username="official"))
    page.goto(f"{live_server.url}/staff/queue/sites/{open_hall.site.pk}/")
    accessible(page)

    # Issue a ticket for somebody without a phone: the printable slip opens.
    page.select_option("#id_procedure", str(open_hall.card_pickup.pk))
    page.get_by_role("button", name="発行して受付票を開く").click()
    first = QueueTicket.objects.get()
    assert first.channel == TicketChannel.STAFF
    assert page.locator("#slip-number").inner_text() == first.label
    accessible(page)
    page.get_by_role("link", name="呼び出しの画面に戻る").click()
    page.select_option("#id_procedure", str(open_hall.cert_renewal.pk))
    page.get_by_role("button", name="発行して受付票を開く").click()
    page.get_by_role("link", name="呼び出しの画面に戻る").click()

    # Call number 1 to counter 1, recall it, then transfer it to counter 2.
    page.get_by_role("button", name="1番窓口に次の方を呼ぶ").click()
    assert page.get_by_text("1番を1番窓口にお呼びしました。").is_visible()
    page.get_by_role("button", name="1番を再呼出").click()
    assert page.get_by_text("1番を再呼出しました（1回目）。").is_visible()
    accessible(page)
    page.locator("summary", has_text="1番を回付").first.click()
    page.select_option(f"#transfer-{first.pk}-counter", str(open_hall.counter_2.pk))
    page.get_by_role("button", name="1番を回付する").first.click()
    assert page.get_by_text("1番を2番窓口へ回付しました（順番はそのままです）。").is_visible()
    first.refresh_from_db()
    assert (first.status, first.transfer_counter_id) == (
        TicketStatus.WAITING,
        open_hall.counter_2.pk,
    )

    # Counter 1 now gets number 2; counter 2 gets the transferred number 1 and serves it.
    page.get_by_role("button", name="1番窓口に次の方を呼ぶ").click()
    assert page.get_by_text("2番を1番窓口にお呼びしました。").is_visible()
    page.get_by_role("button", name="2番窓口に次の方を呼ぶ").click()
    assert page.get_by_text("1番を2番窓口にお呼びしました。").is_visible()
    page.get_by_role("button", name="1番の対応を開始").click()
    page.get_by_role("button", name="1番の対応を終了").click()
    assert page.get_by_text("1番の対応を終了しました。").is_visible()
    first.refresh_from_db()
    assert first.status == TicketStatus.DONE

    # Number 2 does not come: marked absent with the button.
    page.get_by_role("button", name="2番は不在").click()
    assert page.get_by_text("2番を不在にしました。").is_visible()
    accessible(page)
    assert QueueTicket.objects.get(number=2).status == TicketStatus.NO_SHOW


def test_the_display_shows_a_new_call_by_itself_and_recovers_after_an_outage(
    live_server: Any, chromium: Any, open_hall: Hall
) -> None:
    # The production polling period (DISPLAY_POLL_SECONDS) on Playwright's clock: each change is
    # picked up by the display's own timer, brought forward (`next_poll`) instead of waited for.
    # A newly called number stays highlighted for one period; the test records it as drawn.
    from playwright.sync_api import expect

    context = chromium.new_context(locale="ja-JP", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        for _ in range(2):
            issue_ticket(
                site=open_hall.site, procedure=open_hall.cert_renewal, actor=Actor.resident()
            )
        open_on_clock(page, f"{live_server.url}/queue/sites/{open_hall.site.pk}/")
        same_document = SameDocument(page)
        record_highlights(page)
        accessible(page)
        assert page.locator("[data-calling-empty]").is_visible()
        size = page.locator(".next-numbers li").first.evaluate(
            "el => parseFloat(getComputedStyle(el).fontSize)"
        )
        assert size >= 56  # readable across the waiting room at 1920×1080

        call_next_ticket(site=open_hall.site, counter=open_hall.counter_2, actor=Actor("staff:1:x"))
        # At the display's next poll, without reloading the page.
        next_poll(page)
        fresh = highlighted(page, "1")
        assert {row["number"] for row in highlights(page)} == {"1"}  # the one called, only
        assert "2番窓口" in fresh["counter"]
        assert fresh["numberSize"] >= 120
        expect(page.locator("[data-announce]")).to_have_text("1番 2番窓口")
        expect(page.locator("[data-calling-empty]")).to_be_hidden()
        accessible(page)
        # The next poll shows it as called, no longer highlighted (nobody is chimed twice).
        next_poll(page)
        expect(page.locator("[data-calling] tr.fresh")).to_have_count(0, timeout=CATCHES_UP_MS)
        expect(page.locator("[data-calling] tr.called td.number")).to_have_text("1")

        # The server goes away for a while: the screen says so, then recovers by itself (the
        # back-off doubles the wait after each failure, to at most 30 seconds).
        page.route("**/board.json", lambda route: route.abort())
        next_poll(page)
        expect(page.locator("[data-offline]")).to_be_visible(timeout=CATCHES_UP_MS)
        page.unroute("**/board.json")
        call_next_ticket(site=open_hall.site, counter=open_hall.counter_1, actor=Actor("staff:1:x"))
        next_poll(page, by_ms=LONGEST_RETRY_MS)
        expect(page.locator("[data-offline]")).to_be_hidden(timeout=2 * LONGEST_RETRY_MS)
        expect(page.locator("[data-calling] td.number", has_text="2")).to_have_count(
            1, timeout=CATCHES_UP_MS
        )
        assert not same_document.reloaded()
    finally:
        context.close()


def test_a_manager_filters_the_statistics_and_adopts_the_observed_service_times(
    live_server: Any, page: Any, open_hall: Hall
) -> None:
    from madoguchi.offices.models import Procedure
    from madoguchi.walkins.services import finish_ticket, start_serving

    for _ in range(10):
        ticket = issue_ticket(
            site=open_hall.site, procedure=open_hall.cert_renewal, actor=Actor.resident()
        )
        call_next_ticket(site=open_hall.site, counter=open_hall.counter_1, actor=Actor("staff:1:x"))
        start_serving(ticket=ticket, actor=Actor("staff:1:x"))
        QueueTicket.objects.filter(pk=ticket.pk).update(
            served_at=jst(9), called_at=jst(9)
        )  # 9:00 → now (about 10:00): an hour's service
        finish_ticket(ticket=ticket, actor=Actor("staff:1:x"))
    StaffUser.objects.create_user(
        "kanri",
        password="pw-for-tests",
        role=Role.MANAGER,
        municipality=open_hall.site.municipality,
    )
    sign_in_browser(page, live_server.url, StaffUser.objects.get(username="kanri"))
    page.goto(f"{live_server.url}/staff/queue/stats/")
    accessible(page)
    page.select_option("#id_site", str(open_hall.site.pk))
    day = jst(10).date().isoformat()
    page.fill("#id_first", day)
    page.fill("#id_last", day)
    page.get_by_role("button", name="表示").click()
    assert page.locator("svg.chart").is_visible()
    assert page.get_by_role("cell", name="電子証明書の更新").first.is_visible()
    accessible(page)
    page.get_by_role("button", name="実績の対応時間を所要時間として採用").click()
    assert page.get_by_text("「電子証明書の更新」の所要時間を10分から").is_visible()
    duration = Procedure.objects.get(pk=open_hall.cert_renewal.pk).duration_minutes
    assert 59 <= duration <= 61


def test_a_manager_registers_the_entrance_tablet_and_revokes_it(
    live_server: Any, chromium: Any, page: Any, open_hall: Hall
) -> None:
    StaffUser.objects.create_user(
        "kanri",
        password="pw-for-tests",
        role=Role.MANAGER,
        municipality=open_hall.site.municipality,
    )
    sign_in_browser(page, live_server.url, StaffUser.objects.get(username="kanri"))
    page.goto(f"{live_server.url}/staff/queue/sites/{open_hall.site.pk}/")
    page.get_by_role("link", name="整理券発行機の登録").click()
    accessible(page)
    page.get_by_label("発行機の名前（置き場所）").fill("   ")  # blank: refused by the server
    page.get_by_role("button", name="登録して登録用リンクを出す").click()
    assert "発行機の名前を入力してください" in page.get_by_role("alert").inner_text()
    page.get_by_label("発行機の名前（置き場所）").fill("正面入口")
    page.get_by_role("button", name="登録して登録用リンクを出す").click()
    link = page.locator("#activation-link").inner_text()
    assert "/queue/kiosk/activate/" in link
    assert page.locator("svg.qr").is_visible()
    accessible(page)

    # The tablet (another browser context: its own cookies) opens the link.
    tablet = chromium.new_context(locale="ja-JP", viewport={"width": 1024, "height": 768})
    try:
        kiosk = tablet.new_page()
        kiosk.goto(live_server.url + link[link.index("/queue/") :])
        kiosk.get_by_role("button", name="この端末を発行機にする").click()
        kiosk.get_by_role("button", name="電子証明書の更新").click()
        assert kiosk.locator("#kiosk-number").inner_text() == "1"

        # The manager revokes it: the tablet's next tap is refused, nothing issued.
        page.reload()
        page.get_by_role("button", name="正面入口の登録を取り消す").click()
        assert page.get_by_text("発行機「正面入口」の登録を取り消しました。").is_visible()
        accessible(page)
        assert KioskDevice.objects.get().revoked_at is not None
        kiosk.goto(f"{live_server.url}/queue/sites/{open_hall.site.pk}/kiosk/")
        assert kiosk.get_by_role("alert").is_visible()
        assert QueueTicket.objects.count() == 1
    finally:
        tablet.close()


def test_a_kiosk_left_on_overnight_offers_tickets_in_the_morning_by_itself(
    live_server: Any, chromium: Any
) -> None:
    """The tablet stays on the kiosk page from closing time to the next morning and nobody
    touches it: it said 受付は終了しました with no buttons until someone reloaded it by hand.
    It reloads itself, so the morning's visitors find the buttons. The production period
    (KIOSK_REFRESH_SECONDS) runs on Playwright's clock, brought forward once the night is over."""
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1024, "height": 768})
    try:
        with frozen_at(jst(18), tick=True) as traveller:
            hall = make_hall()
            context.add_cookies(
                [{"name": COOKIE_NAME, "value": kiosk_cookie(hall.site), "url": live_server.url}]
            )
            page = context.new_page()
            open_on_clock(page, f"{live_server.url}/queue/sites/{hall.site.pk}/kiosk/")
            assert "本日の受付は終了しました" in page.locator(".closed-notice").inner_text()
            assert page.get_by_role("button", name="電子証明書の更新").count() == 0
            traveller.move_to(jst(8, 35, day=TUESDAY + dt.timedelta(days=1)))
            page.clock.fast_forward(
                views.KIOSK_REFRESH_SECONDS * 1000
            )  # its timer: no reload by hand
            button = page.get_by_role("button", name="電子証明書の更新")
            button.wait_for(timeout=10_000)
            accessible(page)
            button.click()
            ticket = QueueTicket.objects.get()
            assert ticket.business_day == TUESDAY + dt.timedelta(days=1)
            assert ticket.channel == TicketChannel.KIOSK
    finally:
        context.close()
