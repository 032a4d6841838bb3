"""A change of date and a cancellation are told to a booking with a contact, by mail and SMS,
from the services themselves (after the commit; nothing on a refusal or a no-op)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from icalendar import Calendar

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.reservations import mail as notify_mail
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation
from madoguchi.reservations.visit import Visit
from tests.conftest import SmsOutbox
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE, VISIT_DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock_at() -> Iterator[Any]:
    """The residents' factories' "now" (this directory's `frozen` uses another day)."""
    with frozen_at(factories.NOW) as traveller:
        yield traveller


@pytest.fixture
def town(clock_at: Any) -> factories.City:
    """The residents' test city (this directory's `municipality` is the bare municipality)."""
    return factories.city()


def _booked(town: factories.City, **contact: str) -> Reservation:
    factories.notice_card(town.municipality)
    slot = factories.slot(town.site, town.pickup)
    return services.book_reservation(
        slot_id=slot.pk,
        procedure_code="card_pickup",
        applicant=services.Applicant(birth_date=BIRTH, notice_number=NOTICE, **contact),
        actor=Actor.resident(),
    )


def test_a_reschedule_tells_the_new_date_by_mail_and_sms(
    town: factories.City, sms_outbox: SmsOutbox, django_capture_on_commit_callbacks: Any
) -> None:
    booked = _booked(town, email="taro@example.jp", phone="09012345678")
    later = factories.slot(town.site, town.pickup, day=VISIT_DAY + dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        services.reschedule_reservation(code=booked.code, slot_id=later.pk, actor=Actor.resident())

    (message,) = mail.outbox
    assert message.subject.startswith("【予約変更】マイナンバーカードの受け取り 6月12日（金）10:00")
    assert "予約の日時を変更しました" in message.body
    assert "日時: 2026年6月12日（金）10:00" in message.body
    assert "インターネットでの変更・取消は 6月10日（水）までです。" in message.body
    (text,) = sms_outbox.messages
    assert "6月12日（金）10:00に変更しました" in text["body"] and booked.code in text["body"]


def test_a_cancellation_is_told_with_where_to_book_again(
    town: factories.City,
    sms_outbox: SmsOutbox,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.PUBLIC_BASE_URL = "https://yoyaku.example.lg.jp"
    booked = _booked(town, email="taro@example.jp", phone="09012345678")
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_reservation(code=booked.code, actor=Actor.resident())

    (message,) = mail.outbox
    assert message.subject.startswith("【予約取消】")
    assert "次の予約を取り消しました" in message.body
    assert "日時: 2026年6月10日（水）10:00" in message.body
    assert "https://yoyaku.example.lg.jp/book/" in message.body
    (text,) = sms_outbox.messages
    assert "取り消しました" in text["body"] and booked.code in text["body"]


def test_a_refused_or_empty_change_tells_nothing(
    town: factories.City,
    sms_outbox: SmsOutbox,
    django_capture_on_commit_callbacks: Any,
    clock_at: Any,
) -> None:
    booked = _booked(town, email="taro@example.jp", phone="09012345678")
    with django_capture_on_commit_callbacks(execute=True):
        services.reschedule_reservation(  # the same slot: nothing changes
            code=booked.code, slot_id=booked.slot_id, actor=Actor.resident()
        )
        clock_at.move_to(dt.datetime(2026, 6, 9, 9, 0, tzinfo=dt.UTC))  # past the cut-off
        with pytest.raises(DomainError, match="取消・変更できません"):
            services.cancel_reservation(code=booked.code, actor=Actor.resident())
    assert mail.outbox == [] and sms_outbox.messages == []


def test_a_booking_without_a_contact_is_not_told(
    town: factories.City, sms_outbox: SmsOutbox, django_capture_on_commit_callbacks: Any
) -> None:
    booked = _booked(town)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_reservation(code=booked.code, actor=Actor.resident())
    assert mail.outbox == [] and sms_outbox.messages == []


def _attached_event(message: mail.EmailMessage) -> Any:
    (attachment,) = message.attachments
    name, content, mimetype = attachment
    assert mimetype == "text/calendar" and str(name).endswith(".ics")
    (event,) = Calendar.from_ical(content).walk("VEVENT")
    return event


def test_each_mail_of_a_change_attaches_the_ics_that_makes_the_calendar_follow(
    town: factories.City, django_capture_on_commit_callbacks: Any
) -> None:
    """The confirmation adds the entry (SEQUENCE 0), the new date moves it (1), the
    cancellation removes it (2, STATUS:CANCELLED): the same UID, the booking's revision
    (decision 0041); the reminder attaches nothing."""
    with django_capture_on_commit_callbacks(execute=True):
        booked = _booked(town, email="taro@example.jp")
    later = factories.slot(town.site, town.pickup, day=VISIT_DAY + dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        services.reschedule_reservation(code=booked.code, slot_id=later.pk, actor=Actor.resident())
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_reservation(code=booked.code, actor=Actor.resident())
    confirmation, moved, cancelled = (_attached_event(m) for m in mail.outbox)
    assert {str(e["uid"]) for e in (confirmation, moved, cancelled)} == {
        f"reservation-{booked.code}@madoguchi"
    }
    assert [e["sequence"] for e in (confirmation, moved, cancelled)] == [0, 1, 2]
    assert [str(e["status"]) for e in (confirmation, moved, cancelled)] == [
        "CONFIRMED", "CONFIRMED", "CANCELLED"
    ]  # fmt: skip
    assert moved.decoded("dtstart") == later.starts_at
    assert "添付のファイル（.ics）" in mail.outbox[0].body and "予定が取り消されます" in (
        mail.outbox[2].body
    )
    reminder = notify_mail.reminder_message(
        Visit.of(Reservation.objects.get(pk=booked.pk)), "taro@example.jp"
    )
    assert reminder.attachments == []
