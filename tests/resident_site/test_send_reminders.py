"""`send_reminders`: the day-before reminder goes out once per reservation with a contact — card
pick-ups too — by mail through real SMTP and by SMS (the file backend), naming the real day and
the cut-off of online changes."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation, Slot
from tests.conftest import SmsOutbox
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, VISIT_DAY
from tests.resident_site.test_visit_ics_mail import body_of, subject_of

pytestmark = pytest.mark.django_db

THE_DAY_BEFORE = clock.at(VISIT_DAY - dt.timedelta(days=1), dt.time(18, 0))


def renewal(
    city: factories.City, *, email: str, family: str, day: dt.date = VISIT_DAY
) -> Reservation:
    slot = Slot.objects.filter(site=city.site, procedure=city.renewal, starts_at__date=day).first()
    slot = slot or factories.slot(city.site, city.renewal, day=day)
    return services.book_reservation(
        slot_id=slot.pk,
        procedure_code="cert_renewal",
        applicant=services.Applicant(
            birth_date=BIRTH,
            family_name_kana=family,
            given_name_kana="ハナコ",
            email=email,
            phone="0312345678",
        ),
        actor=Actor.resident(),
    )


def run(**options: Any) -> str:
    out = StringIO()
    call_command("send_reminders", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_tomorrows_bookings_get_one_reminder_each_even_when_run_twice(
    city: factories.City, frozen: Any, smtp_inbox: Any
) -> None:
    booked = renewal(city, email="hanako@example.jp", family="ヤマダ")
    renewal(city, email="", family="スズキ")  # no address: phone only
    renewal(city, email="later@example.jp", family="タナカ", day=VISIT_DAY + dt.timedelta(days=1))
    frozen.move_to(THE_DAY_BEFORE)

    assert "送信 1 件" in run()
    assert "送信 0 件" in run()

    (message,) = smtp_inbox.messages
    assert message["To"] == "hanako@example.jp"
    assert subject_of(message).startswith(
        "【ご予約日のお知らせ】電子証明書の更新 6月10日（水）10:00"
    )
    body = body_of(message)
    assert body.startswith("6月10日（水）はマイナンバーカード窓口のご予約の日です。")
    assert "明日" not in body
    assert f"予約コード: {booked.code}" in body
    assert "・マイナンバーカード" in body
    # the day before, online changes ended on the cut-off (2 days before the visit): say so
    assert "インターネットでの変更・取消は 6月8日（月）で締め切りました。" in body
    assert "上のページから予約の変更・取消" not in body


def test_cancelled_bookings_get_no_reminder(
    city: factories.City, frozen: Any, smtp_inbox: Any
) -> None:
    booked = renewal(city, email="hanako@example.jp", family="ヤマダ")
    services.cancel_reservation(code=booked.code, actor=Actor.resident())
    frozen.move_to(THE_DAY_BEFORE)
    assert "送信 0 件" in run()
    assert smtp_inbox.messages == []


def test_a_rescheduled_booking_is_reminded_again_for_its_new_day(
    city: factories.City, frozen: Any, smtp_inbox: Any
) -> None:
    booked = renewal(city, email="hanako@example.jp", family="ヤマダ")
    run(date=VISIT_DAY.isoformat())
    later = factories.slot(city.site, city.renewal, day=VISIT_DAY + dt.timedelta(days=7))
    services.reschedule_reservation(code=booked.code, slot_id=later.pk, actor=Actor.resident())

    assert "送信 1 件" in run(date=(VISIT_DAY + dt.timedelta(days=7)).isoformat())
    assert len(smtp_inbox.messages) == 2


def test_an_unreachable_mail_server_fails_the_run_and_is_retried_next_time(
    city: factories.City, frozen: Any, settings: Any
) -> None:
    renewal(city, email="hanako@example.jp", family="ヤマダ")
    frozen.move_to(THE_DAY_BEFORE)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # discard port: refused
    with pytest.raises(CommandError, match="次回の実行で再送します"):
        run()
    from madoguchi.resident_site.reminders import pending_reminders

    assert len(pending_reminders(VISIT_DAY)) == 1


def test_a_bad_date_option_is_refused() -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run(date="2026/06/10")


def test_a_reminder_is_claimed_by_one_run_only(city: factories.City, frozen: Any) -> None:
    booked = renewal(city, email="hanako@example.jp", family="ヤマダ")
    assert services.claim_reminder(code=booked.code, visit_on=VISIT_DAY)
    assert not services.claim_reminder(code=booked.code, visit_on=VISIT_DAY)
    services.release_reminder(code=booked.code, visit_on=VISIT_DAY)
    assert services.claim_reminder(code=booked.code, visit_on=VISIT_DAY)
    # A new visit date is a new reminder.
    assert services.claim_reminder(code=booked.code, visit_on=VISIT_DAY + dt.timedelta(days=1))


def pickup_with_contact(
    city: factories.City, *, email: str = "", phone: str = "", day: dt.date = VISIT_DAY
) -> Reservation:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup, day=day)
    return services.book_reservation(
        slot_id=slot.pk,
        procedure_code="card_pickup",
        applicant=services.Applicant(
            birth_date=BIRTH, notice_number=factories.NOTICE, email=email, phone=phone
        ),
        actor=Actor.resident(),
    )


def test_a_card_pickup_with_a_contact_is_reminded_by_mail_and_sms(
    city: factories.City, frozen: Any, smtp_inbox: Any, sms_outbox: SmsOutbox
) -> None:
    booked = pickup_with_contact(city, email="taro@example.jp", phone="090-1234-5678")
    frozen.move_to(THE_DAY_BEFORE)

    assert "送信 1 件" in run()

    (message,) = smtp_inbox.messages
    assert message["To"] == "taro@example.jp"
    assert f"予約コード: {booked.code}" in body_of(message)
    (text,) = sms_outbox.messages
    assert text["to"] == "+819012345678"
    assert text["body"].startswith(f"【{city.municipality.name}】6月10日（水）10:00は")
    assert booked.code in text["body"]
    event = AuditEvent.objects.get(action="reservation.remind", subject_id=booked.code)
    assert event.after == {"visit_on": "2026-06-10", "channels": ["email", "sms"]}


def test_a_landline_alone_gets_no_reminder_and_a_mobile_alone_gets_an_sms(
    city: factories.City, frozen: Any, smtp_inbox: Any, sms_outbox: SmsOutbox
) -> None:
    renewal(city, email="", family="スズキ")  # 03-…: staff may call, no SMS possible
    mobile = pickup_with_contact(city, phone="08012345678")
    frozen.move_to(THE_DAY_BEFORE)

    assert "送信 1 件" in run()
    assert smtp_inbox.messages == []
    (text,) = sms_outbox.messages
    assert text["to"] == "+818012345678" and mobile.code in text["body"]


def test_a_reminder_run_for_a_later_day_names_that_day_and_says_changes_are_still_open(
    city: factories.City, frozen: Any, smtp_inbox: Any
) -> None:
    later = VISIT_DAY + dt.timedelta(days=7)  # 6月17日（水）; run on 6月9日 with --date
    renewal(city, email="hanako@example.jp", family="ヤマダ", day=later)
    frozen.move_to(THE_DAY_BEFORE)

    assert "送信 1 件" in run(date=later.isoformat())

    (message,) = smtp_inbox.messages
    body = body_of(message)
    assert body.startswith("6月17日（水）はマイナンバーカード窓口のご予約の日です。")
    assert "明日" not in body and "明日" not in subject_of(message)
    assert "インターネットでの変更・取消は 6月15日（月）までです。" in body


def test_links_in_the_reminder_point_at_the_configured_public_site(
    city: factories.City, frozen: Any, smtp_inbox: Any, settings: Any
) -> None:
    settings.PUBLIC_BASE_URL = "https://yoyaku.example.lg.jp"
    booked = renewal(city, email="hanako@example.jp", family="ヤマダ")
    frozen.move_to(THE_DAY_BEFORE)
    run()
    (message,) = smtp_inbox.messages
    assert f"https://yoyaku.example.lg.jp/lookup/?code={booked.code}" in body_of(message)
    assert ":8000" not in body_of(message)


def test_an_sms_that_fails_on_its_own_keeps_the_mail_sent_and_reports_it(
    city: factories.City, frozen: Any, smtp_inbox: Any, settings: Any
) -> None:
    settings.MADOGUCHI_SMS_BACKEND = "twilio"  # not configured: every SMS fails
    settings.MADOGUCHI_TWILIO_ACCOUNT_SID = ""
    booked = pickup_with_contact(city, email="taro@example.jp", phone="09012345678")
    frozen.move_to(THE_DAY_BEFORE)
    err = StringIO()
    call_command("send_reminders", stdout=StringIO(), stderr=err)
    assert f"一部の連絡方法で送れませんでした {booked.code}: sms:" in err.getvalue()
    assert len(smtp_inbox.messages) == 1
    assert "送信 0 件" in run(), "reached by mail: not sent twice"
