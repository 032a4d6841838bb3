"""What to bring, the .ics file and the e-mails say the same facts about a visit."""

from __future__ import annotations

import datetime as dt
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from icalendar import Calendar

from madoguchi.core import clock
from madoguchi.offices.models import Procedure
from madoguchi.reservations import mail
from madoguchi.reservations.ics import visit_calendar
from madoguchi.reservations.visit import documents_to_bring
from tests.resident_site import factories


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body_of(message: Message) -> str:
    """The mail's text (its text/plain part where it attaches the visit's .ics)."""
    if message.is_multipart():
        (message,) = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


_Procedure = Procedure(
    documents="交付通知書、本人確認書類（写真付き1点、または写真なし2点）、今お持ちのカード",
    proxy_documents="委任欄に記入した交付通知書、代理人の本人確認書類",
)


def test_documents_are_split_into_items_but_not_inside_brackets() -> None:
    assert documents_to_bring(_Procedure, is_proxy=False) == (
        "交付通知書",
        "本人確認書類（写真付き1点、または写真なし2点）",
        "今お持ちのカード",
    )


def test_a_proxy_visit_lists_the_proxy_documents() -> None:
    assert documents_to_bring(_Procedure, is_proxy=True) == (
        "委任欄に記入した交付通知書",
        "代理人の本人確認書類",
    )


def test_ics_holds_one_event_at_the_visit_time_with_the_code_and_what_to_bring() -> None:
    calendar = Calendar.from_ical(visit_calendar(factories.visit()))
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == clock.at(factories.VISIT_DAY, dt.time(10, 0))
    assert event.decoded("dtend") == clock.at(factories.VISIT_DAY, dt.time(10, 20))
    assert str(event["uid"]) == "reservation-ACDEFGHJKL@madoguchi"
    assert "みどり本庁舎" in str(event["location"])
    description = str(event["description"])
    assert "ACDEFGHJKL" in description
    assert "・交付通知書" in description
    assert event.walk("VALARM"), "a reminder the day before"


@pytest.mark.django_db
def test_confirmation_mail_arrives_over_smtp_in_japanese(smtp_inbox: Any) -> None:
    mail.send_confirmation(factories.visit(), "hanako@example.jp")

    (message,) = smtp_inbox.messages
    assert message["To"] == "hanako@example.jp"
    assert subject_of(message) == (
        "【予約受付】マイナンバーカードの受け取り 6月10日 10:00（予約コード ACDEFGHJKL）"
    )
    body = body_of(message)
    assert "予約を受け付けました" in body
    assert "予約コード: ACDEFGHJKL" in body
    assert "日時: 2026年6月10日（水）10:00〜10:20" in body
    assert "場所: みどり本庁舎" in body
    assert "・本人確認書類（写真付き1点、または写真なし2点）" in body
    assert "/lookup/?code=ACDEFGHJKL" in body
    assert "&lt;" not in body and "&amp;" not in body, "plain text is not HTML-escaped"


@pytest.mark.django_db
def test_the_reminder_names_the_visit_day_never_tomorrow(smtp_inbox: Any) -> None:
    mail.send_reminder(factories.visit(is_proxy=True), "hanako@example.jp")

    (message,) = smtp_inbox.messages
    assert subject_of(message).startswith(
        "【ご予約日のお知らせ】マイナンバーカードの受け取り 6月10日（水）"
    )
    body = body_of(message)
    assert body.startswith("6月10日（水）はマイナンバーカード窓口のご予約の日です")
    assert "明日" not in body
    assert "（代理人が来庁）" in body


@pytest.mark.parametrize(
    ("today", "says"),
    [
        (
            dt.date(2026, 6, 8),  # the cut-off day itself: still open
            "インターネットでの変更・取消は 6月8日（月）までです。"
            "それ以降は市民課 03-1234-5678までお電話ください。",
        ),
        (
            dt.date(2026, 6, 9),
            "インターネットでの変更・取消は 6月8日（月）で締め切りました。"
            "ご都合が悪くなった場合は、市民課 03-1234-5678までお電話ください。",
        ),
    ],
)
def test_mails_and_sms_state_the_last_day_of_online_changes(today: dt.date, says: str) -> None:
    visit = factories.visit()
    for message in (
        mail.confirmation_message(visit, "hanako@example.jp", today=today),
        mail.reminder_message(visit, "hanako@example.jp", today=today),
    ):
        assert says in message.body.replace("\n", "")
    for kind in (mail.CONFIRMATION, mail.REMINDER):
        text = mail.sms_text(kind, visit, today=today)
        assert "6月10日（水）10:00" in text and "ACDEFGHJKL" in text
        assert ("6月8日（月）まで" in text) == (today <= dt.date(2026, 6, 8))
        assert "\n" not in text and "明日" not in text
