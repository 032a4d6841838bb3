"""A counter's day in Chromium, every form really submitted to a live server, every page at zero
axe-core violations: from the staff start page to the day, search it, check visitors in, open a
visitor's queue slip and go back to the calling page, call them, hand a card over on the
hand-over screen (a refused attempt first), finish a renewal, mark a no-show, cancel a walk-in
on the calling page, take a phone booking, log out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.issuance.models import CardHandOver, CardRecord, CardStatus
from madoguchi.reservations.models import Channel, Reservation, ReservationStatus
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.services import issue_ticket
from tests.conftest import accessible, sign_in_browser
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, VISIT_DAY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def day(live_server: Any) -> Iterator[dict[str, Any]]:
    with frozen_at(factories.NOW, tick=True) as traveller:
        city = factories.city()
        pickup = factories.book_card_pickup(city, "10:00", n=0)
        late = factories.book_card_pickup(city, "09:00", n=1)
        renewal = factories.book_cert_renewal(city, "10:20")
        factories.slot(city.site, city.renewal, time="15:00")
        user = StaffUser.objects.create_user(
            "official", password="pw-for-tests", role=Role.OFFICIAL, municipality=city.municipality
        )
        user.sites.set([city.site])
        traveller.move_to(clock.at(VISIT_DAY, dt.time(9, 50)))
        yield {"city": city, "pickup": pickup, "late": late, "renewal": renewal}


def status(booked: Reservation) -> str:
    booked.refresh_from_db()
    return booked.status


def test_a_counter_day_with_every_console_form(
    live_server: Any, page: Any, day: dict[str, Any]
) -> None:
    city, pickup, late, renewal = day["city"], day["pickup"], day["late"], day["renewal"]
    site = city.site
    sign_in_browser(page, live_server.url, StaffUser.objects.get(username="official"))
    # The staff start page links the official's site's day.
    page.goto(f"{live_server.url}/staff/")
    accessible(page)
    page.get_by_role("link", name="今日の予約").first.click()
    assert page.url == f"{live_server.url}/staff/sites/{site.pk}/"
    accessible(page)

    # Search the day by kana typed in hiragana: only the renewal's visitor is listed.
    page.fill("#day-query", "すずき")
    page.get_by_role("button", name="探す").click()
    assert "q=" in page.url
    assert page.get_by_text("「すずき」：1件").is_visible()
    assert page.locator("tbody tr").count() == 1
    accessible(page)
    page.get_by_role("link", name="すべて表示").click()

    # Check both visitors in, then call them to the two counters.
    page.get_by_role("button", name=f"受付 {pickup.code}").click()
    assert page.get_by_text(f"{pickup.code}：受付しました").is_visible()
    accessible(page)
    page.get_by_role("button", name=f"受付 {renewal.code}").click()
    assert status(pickup) == status(renewal) == ReservationStatus.CHECKED_IN

    # The day view links a visitor's queue slip: number and QR code, printable; from it back to
    # the calling page, both visitors waiting there as booked ones.
    page.get_by_role("link", name=f"受付票 {pickup.code}").click()
    slip_number = QueueTicket.objects.get(reservation=pickup).number
    assert page.locator("#slip-number").inner_text() == str(slip_number)
    assert page.locator("svg.qr").is_visible()
    accessible(page)
    page.get_by_role("link", name="呼び出しの画面に戻る").click()
    assert page.url == f"{live_server.url}/staff/queue/sites/{site.pk}/"
    assert page.get_by_text("予約", exact=True).count() == 2
    accessible(page)
    page.get_by_role("button", name="1番に次の方を呼ぶ").click()
    page.get_by_role("button", name="2番に次の方を呼ぶ").click()
    accessible(page)

    # The hand-over screen: the card record beside the form; a refusal keeps what was typed.
    page.goto(f"{live_server.url}/staff/sites/{site.pk}/")
    page.get_by_role("link", name=f"交付の画面へ {pickup.code}").click()
    card = CardRecord.objects.get(reservation_code=pickup.code)
    assert page.locator(".holder-name").inner_text() == card.full_name
    assert page.locator(".holder-address").inner_text().endswith(card.address)
    accessible(page)
    page.get_by_label("ご本人", exact=True).check()
    page.get_by_label("健康保険の資格確認書・被保険者証").check()  # one document without a photo
    page.get_by_label("旧カードを回収し、穴を開けて無効にした").check()
    page.get_by_label("ご本人が端末で暗証番号を設定した").check()
    page.get_by_label("署名用・利用者証明用の電子証明書を発行した").check()
    page.get_by_label(
        "券面の氏名・生年月日・住所と本人確認書類が一致することを確認しました"
    ).check()
    page.get_by_role("button", name="交付する").click()
    assert page.get_by_role("alert").is_visible()
    assert "写真のないもの2点" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("健康保険の資格確認書・被保険者証").is_checked()
    accessible(page)
    assert card.status == CardStatus.BOOKED
    page.get_by_label("年金手帳・基礎年金番号通知書").check()
    page.get_by_label(
        "券面の氏名・生年月日・住所と本人確認書類が一致することを確認しました"
    ).check()
    page.get_by_role("button", name="交付する").click()
    assert page.get_by_text(f"{pickup.code}：カードを交付し、完了にしました").is_visible()
    accessible(page)
    assert status(pickup) == ReservationStatus.SERVED
    assert QueueTicket.objects.get(reservation=pickup).status == TicketStatus.DONE
    assert CardHandOver.objects.get(card=card).id_document_class == "two_other"

    # The renewal at the other counter: 完了 closes booking and ticket.
    page.get_by_role("button", name=f"完了 {renewal.code}").click()
    assert status(renewal) == ReservationStatus.SERVED
    assert QueueTicket.objects.get(reservation=renewal).status == TicketStatus.DONE

    # The 9:00 visitor never came.
    page.get_by_role("button", name=f"来庁なし {late.code}").click()
    assert status(late) == ReservationStatus.NO_SHOW
    accessible(page)

    # A walk-in gives up: cancelled on the calling page.
    walk_in = issue_ticket(site=site, procedure=city.renewal, actor=Actor.resident())
    page.goto(f"{live_server.url}/staff/queue/sites/{site.pk}/")
    page.get_by_role("button", name=f"{walk_in.label}番を取り消す").click()
    walk_in.refresh_from_db()
    assert walk_in.status == TicketStatus.CANCELLED
    accessible(page)

    # A phone booking: list the free times, then book one.
    page.goto(f"{live_server.url}/staff/sites/{site.pk}/phone-booking/")
    page.select_option("#id_procedure", "cert_renewal")
    page.fill("#id_day", VISIT_DAY.isoformat())
    page.get_by_role("button", name="空き時間を表示").click()
    assert "procedure=cert_renewal" in page.url
    accessible(page)
    page.select_option("#id_slot", index=1)
    page.fill("#id_family_name_kana", "タナカ")
    page.fill("#id_given_name_kana", "ハナ")
    page.select_option("#id_birth_date_year", str(BIRTH.year))
    page.select_option("#id_birth_date_month", str(BIRTH.month))
    page.select_option("#id_birth_date_day", str(BIRTH.day))
    page.fill("#id_phone", "0312345678")
    page.get_by_role("button", name="予約する").click()
    assert page.get_by_text("予約しました。予約コード").is_visible()
    assert Reservation.objects.filter(channel=Channel.PHONE).count() == 1
    accessible(page)

    page.get_by_role("button", name="ログアウト").click()
    page.goto(f"{live_server.url}/staff/sites/{site.pk}/")
    assert "/staff/login/" in page.url
