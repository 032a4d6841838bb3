"""Done-when (issue 17.1): on a phone-sized Chromium, JavaScript on and off, a resident books a
card pick-up leaving an e-mail address and a mobile number; the confirmation arrives over real
SMTP (a local aiosmtpd server) and by SMS; the day before the visit the reminder job reaches the
same booking by both — naming the real day, the cut-off of online changes and links to the
configured public address. Every page on the way is axe-clean."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from madoguchi.core import clock
from madoguchi.reservations.models import Reservation
from tests.browser.booking_pages import book_through_pages, june_city
from tests.conftest import SmsOutbox, SmtpInbox, accessible
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE
from tests.resident_site.test_visit_ics_mail import body_of, subject_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC = "https://yoyaku.example.lg.jp"
WEEKDAYS = "月火水木金土日"


@pytest.fixture
def pickup_city(live_server: Any, settings: Any) -> Iterator[factories.City]:
    settings.PUBLIC_BASE_URL = PUBLIC  # the live server's own port must not leak into links
    with frozen_at(factories.NOW, tick=True):
        yield june_city()


def _named(day: dt.date) -> str:
    return f"{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_card_pickup_with_a_contact_is_confirmed_and_reminded_by_mail_and_sms(
    live_server: Any,
    chromium: Any,
    pickup_city: factories.City,
    smtp_inbox: SmtpInbox,
    sms_outbox: SmsOutbox,
    javascript: bool,
) -> None:
    context = chromium.new_context(
        java_script_enabled=javascript, locale="ja-JP", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/book/card_pickup/?notice={NOTICE}")
        book_through_pages(page, "みどり本庁舎")
        assert page.get_by_role("heading", name="予約の確認と前日のお知らせ（任意）").is_visible()
        accessible(page)

        # A landline in the mobile field first: said next to the field, nothing booked.
        page.select_option("#id_birth_date_year", str(BIRTH.year))
        page.select_option("#id_birth_date_month", str(BIRTH.month))
        page.select_option("#id_birth_date_day", str(BIRTH.day))
        page.fill("#id_email", "taro@example.jp")
        page.fill("#id_phone", "03-1234-5678")
        page.get_by_role("button", name="確認画面へ進む").click()
        assert page.get_by_role("alert").is_visible()
        assert "携帯電話番号は070・080・090で始まる11桁" in page.content()
        accessible(page)
        assert not Reservation.objects.exists()

        page.fill("#id_phone", "090-1234-5678")
        page.select_option("#id_birth_date_year", str(BIRTH.year))
        page.select_option("#id_birth_date_month", str(BIRTH.month))
        page.select_option("#id_birth_date_day", str(BIRTH.day))
        page.get_by_role("button", name="確認画面へ進む").click()
        assert "taro@example.jp" in page.locator(".summary").last.inner_text()
        accessible(page)
        page.get_by_role("button", name="この内容で予約する").click()
        booked = Reservation.objects.get()
        assert page.locator(".summary .code").inner_text() == booked.code
        accessible(page)
    finally:
        context.close()

    assert (booked.email, booked.phone) == ("taro@example.jp", "09012345678")
    visit_day = clock.to_jst(booked.slot.starts_at).date()
    cutoff = visit_day - dt.timedelta(days=pickup_city.municipality.cancellation_cutoff_days)

    # the confirmation: over real SMTP, and by SMS
    (confirmation,) = smtp_inbox.messages
    assert confirmation["To"] == "taro@example.jp"
    assert subject_of(confirmation).startswith("【予約受付】マイナンバーカードの受け取り")
    body = body_of(confirmation)
    assert f"予約コード: {booked.code}" in body
    assert f"インターネットでの変更・取消は {_named(cutoff)}までです。" in body
    assert f"{PUBLIC}/lookup/?code={booked.code}" in body
    assert live_server.url not in body
    (text,) = sms_outbox.messages
    assert text["to"] == "+819012345678"
    assert booked.code in text["body"] and f"{PUBLIC}/lookup/" in text["body"]

    # two days before: the job sends nothing yet; the day before it reaches the pick-up
    out = StringIO()
    with frozen_at(clock.at(visit_day - dt.timedelta(days=2), dt.time(18))):
        call_command("send_reminders", stdout=out)
    assert "送信 0 件" in out.getvalue()
    with frozen_at(clock.at(visit_day - dt.timedelta(days=1), dt.time(18))):
        call_command("send_reminders", stdout=out)
    assert "送信 1 件" in out.getvalue()

    reminder = smtp_inbox.messages[-1]
    assert len(smtp_inbox.messages) == 2
    assert reminder["To"] == "taro@example.jp"
    assert subject_of(reminder).startswith("【ご予約日のお知らせ】")
    body = body_of(reminder)
    assert body.startswith(f"{_named(visit_day)}はマイナンバーカード窓口のご予約の日です。")
    assert "明日" not in body
    assert f"インターネットでの変更・取消は {_named(cutoff)}で締め切りました。" in body
    assert f"{PUBLIC}/lookup/?code={booked.code}" in body
    texts = sms_outbox.messages
    assert len(texts) == 2 and texts[-1]["to"] == "+819012345678"
    assert texts[-1]["body"].startswith(
        f"【{pickup_city.municipality.name}】{_named(visit_day)}{clock.to_jst(booked.slot.starts_at):%H:%M}は"
    )
