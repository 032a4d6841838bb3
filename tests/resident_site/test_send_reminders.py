"""`send_reminders`: the day-before mail goes out once per reservation, through real SMTP."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation, Slot
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
    assert subject_of(message).startswith("【明日のご予約】電子証明書の更新 6月10日 10:00")
    body = body_of(message)
    assert f"予約コード: {booked.code}" in body
    assert "・マイナンバーカード" in body


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
