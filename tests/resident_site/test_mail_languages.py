"""Mails and SMS in the language the resident booked in (`Reservation.language`): the
confirmation on booking, over real SMTP, and the day-before reminder from `send_reminders`,
whatever language the sending request or command runs in."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import formats, translation

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation
from tests.conftest import SmsOutbox
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE, VISIT_DAY, birth_fields
from tests.resident_site.test_send_reminders import THE_DAY_BEFORE, run
from tests.resident_site.test_visit_ics_mail import body_of, subject_of

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Says:
    """What each message says in one language (written here, not read from the catalogue)."""

    confirmation_subject: str
    confirmation_body: str
    reminder_body: str
    confirmation_sms: str
    code_label: str


SAYS = {
    "ja": Says(
        "【予約受付】",
        "マイナンバーカード窓口の予約を受け付けました。",
        "はマイナンバーカード窓口のご予約の日です。",
        "マイナンバーカード窓口の予約を受け付けました。",
        "予約コード: ",
    ),
    "ja-x-easy": Says(
        "【よやくを うけつけました】",
        "マイナンバーカードの まどぐちの よやくを うけつけました。",
        "は マイナンバーカードの まどぐちに よやくした 日です。",
        "よやくを うけつけました。",
        "よやくコード: ",
    ),
    "en": Says(
        "[Booking confirmed]",
        "Your booking at the My Number Card counter is confirmed.",
        "is the day of your booking at the My Number Card counter.",
        "Your My Number Card counter booking is confirmed",
        "Booking code: ",
    ),
    "zh-hans": Says(
        "【预约已受理】",
        "已受理您在个人编号卡窗口的预约。",
        "是您在个人编号卡窗口的预约日。",
        "已受理您在个人编号卡窗口的预约。",
        "预约代码：",
    ),
    "ko": Says(
        "【예약 접수】",
        "마이넘버카드 창구 예약이 접수되었습니다.",
        "은 마이넘버카드 창구 예약일입니다.",
        "마이넘버카드 창구 예약이 접수되었습니다.",
        "예약 코드: ",
    ),
    "vi": Says(
        "[Đã nhận lịch hẹn]",
        "Đã nhận lịch hẹn của bạn tại quầy thẻ My Number.",
        "là ngày hẹn của bạn tại quầy thẻ My Number.",
        "Đã nhận lịch hẹn tại quầy thẻ My Number",
        "Mã đặt lịch: ",
    ),
    "pt-br": Says(
        "[Agendamento recebido]",
        "Recebemos seu agendamento no balcão do My Number Card.",
        "é o dia do seu agendamento no balcão do My Number Card.",
        "Agendamento no balcão do My Number Card recebido",
        "Código do agendamento: ",
    ),
}

# Fixed texts of the Japanese mail that no other language may keep (names entered in the admin
# — the procedure, the site, what to bring — are another matter).
JAPANESE_FIXED = re.compile(r"予約コード|受け付けました|お越しください|送信専用|持ち物|日時")


def test_every_offered_language_is_checked_here() -> None:
    assert set(SAYS) == {code for code, _name in settings.LANGUAGES}


def _book(city: factories.City, language: str) -> Reservation:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    return services.book_reservation(
        slot_id=slot.pk,
        procedure_code="card_pickup",
        applicant=services.Applicant(
            birth_date=BIRTH, notice_number=NOTICE, email="hanako@example.jp", phone="09012345678"
        ),
        actor=Actor.resident(),
        language=language,
    )


def _other_than(language: str) -> str:
    return "ko" if language != "ko" else "en"


@pytest.mark.parametrize("language", list(SAYS))
def test_a_booking_gets_its_confirmation_and_reminder_in_its_language(
    city: factories.City,
    frozen: Any,
    smtp_inbox: Any,
    sms_outbox: SmsOutbox,
    django_capture_on_commit_callbacks: Any,
    language: str,
) -> None:
    says = SAYS[language]
    # booked (and reminded) while another language is active: the booking's language wins
    with (
        translation.override(_other_than(language)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        booked = _book(city, language)
    assert booked.language == language
    with translation.override(language):
        day = formats.date_format(clock.at(VISIT_DAY, dt.time(10)), "DAY_FORMAT")
        long_day = formats.date_format(clock.at(VISIT_DAY, dt.time(10)), "LONG_DAY_FORMAT")

    (confirmation,) = smtp_inbox.messages
    assert confirmation["To"] == "hanako@example.jp"
    assert subject_of(confirmation).startswith(says.confirmation_subject)
    body = body_of(confirmation)
    assert says.confirmation_body in body
    assert f"{says.code_label}{booked.code}" in body
    assert long_day in body and "10:00" in body
    assert f"/lookup/?code={booked.code}" in body
    (text,) = sms_outbox.messages
    assert says.confirmation_sms in text["body"] and booked.code in text["body"]
    assert day in text["body"]
    if not language.startswith("ja"):
        assert not JAPANESE_FIXED.search(body), body
        assert not JAPANESE_FIXED.search(text["body"]), text["body"]

    frozen.move_to(THE_DAY_BEFORE)
    with translation.override(_other_than(language)):
        assert "送信 1 件" in run()
    reminder = smtp_inbox.messages[-1]
    reminder_body = body_of(reminder)
    assert reminder_body.startswith(day), reminder_body[:80]
    assert says.reminder_body in reminder_body
    assert f"{says.code_label}{booked.code}" in reminder_body
    assert day in sms_outbox.messages[-1]["body"]


def test_the_residents_pages_book_in_the_language_they_are_shown_in(
    city: factories.City, smtp_inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    url = f"/book/card_pickup/slot/{slot.pk}/"
    data = {"notice_number": NOTICE, **birth_fields(), "email": "hanako@example.jp"}
    page = client.post(url, data)
    token = re.search(r'name="token" value="([^"]+)"', page.content.decode())
    assert token, page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {**data, "step": "confirm", "token": token.group(1)})
    assert done.status_code == 302, done.content.decode()

    booked = Reservation.objects.get(notice_number=NOTICE)
    assert booked.language == "vi"
    (confirmation,) = smtp_inbox.messages
    assert SAYS["vi"].confirmation_body in body_of(confirmation)


def test_an_unknown_language_books_nothing(city: factories.City, frozen: Any) -> None:
    with pytest.raises(DomainError) as refused:
        _book(city, "klingon")
    assert refused.value.code == "invalid_language"
    assert not Reservation.objects.exists()


@pytest.mark.parametrize("language", ["vi", "pt-br"])
def test_the_mails_link_opens_the_look_up_page_in_the_mails_language(
    city: factories.City,
    frozen: Any,
    smtp_inbox: Any,
    django_capture_on_commit_callbacks: Any,
    language: str,
) -> None:
    """Read on another device (a phone set to Japanese), the link of a Vietnamese mail opens
    the look-up page in Vietnamese, and the site stays in it."""
    with django_capture_on_commit_callbacks(execute=True):
        booked = _book(city, language)
    (confirmation,) = smtp_inbox.messages
    link = re.search(r"https?://\S+/lookup/\?\S+", body_of(confirmation))
    assert link is not None
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    browser = Client(HTTP_ACCEPT_LANGUAGE="ja")
    page = browser.get("/" + path)
    assert page.status_code == 200
    assert f'<html lang="{language}"' in page.content.decode()
    assert booked.code in page.content.decode()
    assert browser.cookies[settings.LANGUAGE_COOKIE_NAME].value == language
    assert f'<html lang="{language}"' in browser.get("/book/").content.decode()
    unknown = Client(HTTP_ACCEPT_LANGUAGE="ja").get(f"/lookup/?code={booked.code}&lang=xx")
    assert unknown.status_code == 200 and '<html lang="ja"' in unknown.content.decode()
