"""A person booked who is under 15 on the day of the visit comes with their legal
representative (法定代理人), as the booking form says: the reservation page — right after the
booking and when looked up — and the confirmation mail (read from the local SMTP server) repeat
it, in the booking's language; a person 15 or older on that day is not told."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from madoguchi.planning.rules import age_on
from madoguchi.reservations import mail
from madoguchi.reservations.models import Reservation
from madoguchi.reservations.visit import LEGAL_REPRESENTATIVE_AGE
from tests.resident_site import factories
from tests.resident_site.factories import NOTICE, VISIT_DAY, birth_fields
from tests.resident_site.test_visit_ics_mail import body_of

pytestmark = pytest.mark.django_db

MSGID = "ご予約の方は来庁日に15歳未満のため、法定代理人（親権者など）が同行してください。"
LANGUAGES = [code for code, _name in settings.LANGUAGES]

FIFTEENTH_BIRTHDAY_TOMORROW = dt.date(VISIT_DAY.year - 15, VISIT_DAY.month, VISIT_DAY.day + 1)
"""14 on the day of the visit: 15 the day after."""
FIFTEENTH_BIRTHDAY_ON_THE_DAY = dt.date(VISIT_DAY.year - 15, VISIT_DAY.month, VISIT_DAY.day)
ADULT = factories.BIRTH


def said(language: str) -> str:
    with translation.override(language):
        text = gettext(MSGID)
    assert (text != MSGID) == (language != settings.LANGUAGE_CODE), language  # translated
    return text


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def _book_on_the_pages(
    city: factories.City, birth: dt.date, language: str, capture: Any
) -> tuple[Client, str]:
    """Books a card pick-up on VISIT_DAY through the residents' pages in `language`; returns
    the client and the reservation page it was sent to."""
    factories.notice_card(city.municipality, birth=birth)
    slot = factories.slot(city.site, city.pickup)
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    url = f"/book/card_pickup/slot/{slot.pk}/"
    data = {"notice_number": NOTICE, **birth_fields(birth), "email": "hanako@example.jp"}
    confirm = client.post(url, data).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', confirm)
    assert token, confirm
    with capture(execute=True):
        done = client.post(url, {**data, "step": "confirm", "token": token.group(1)})
    assert done.status_code == 302, done.content.decode()
    return client, done["Location"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_child_under_15_on_the_day_is_told_on_the_page_the_look_up_and_the_mail(
    city: factories.City,
    smtp_inbox: Any,
    django_capture_on_commit_callbacks: Any,
    language: str,
) -> None:
    client, location = _book_on_the_pages(
        city, FIFTEENTH_BIRTHDAY_TOMORROW, language, django_capture_on_commit_callbacks
    )
    text = said(language)
    after_booking = client.get(location)
    assert after_booking.status_code == 200
    assert text in _plain(after_booking.content.decode())

    booked = Reservation.objects.get(notice_number=NOTICE)
    stranger = Client()
    stranger.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    found = stranger.post(
        "/lookup/", {"code": booked.code, **birth_fields(FIFTEENTH_BIRTHDAY_TOMORROW)}
    )
    assert found.status_code == 302, found.content.decode()
    looked_up = stranger.get(found["Location"])
    assert looked_up.status_code == 200
    assert text in _plain(looked_up.content.decode())

    (confirmation,) = smtp_inbox.messages
    assert text in body_of(confirmation).replace("\n", "")


@pytest.mark.parametrize(
    "birth", [FIFTEENTH_BIRTHDAY_ON_THE_DAY, ADULT], ids=["15-on-the-day", "adult"]
)
def test_a_person_15_or_older_on_the_day_is_not_told(
    city: factories.City,
    smtp_inbox: Any,
    django_capture_on_commit_callbacks: Any,
    birth: dt.date,
) -> None:
    client, location = _book_on_the_pages(city, birth, "ja", django_capture_on_commit_callbacks)
    page = client.get(location).content.decode()
    assert "予約の内容" in page  # the reservation page itself
    assert MSGID not in _plain(page)
    (confirmation,) = smtp_inbox.messages
    body = body_of(confirmation)
    assert "予約を受け付けました" in body
    assert "法定代理人" not in body


@pytest.mark.parametrize("kind", [mail.CONFIRMATION, mail.REMINDER, mail.RESCHEDULED])
def test_the_reminder_and_the_change_of_date_mails_say_it_too(kind: str) -> None:
    child = mail.message(kind, factories.visit(with_legal_representative=True), "a@example.jp")
    assert MSGID in child.body.replace("\n", "")
    adult = mail.message(kind, factories.visit(), "a@example.jp")
    assert "法定代理人" not in adult.body


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (dt.date(2011, 6, 11), dt.date(2026, 6, 10), 14),
        (dt.date(2011, 6, 10), dt.date(2026, 6, 10), 15),
        (dt.date(2012, 2, 29), dt.date(2027, 2, 27), 14),
        (dt.date(2012, 2, 29), dt.date(2027, 2, 28), 15),  # 29 February: the 28th in a common year
    ],
)
def test_the_age_on_the_day_of_the_visit_counts_from_each_birthday(
    birth: dt.date, day: dt.date, age: int
) -> None:
    assert age_on(birth, day) == age
    assert (age_on(birth, day) < LEGAL_REPRESENTATIVE_AGE) is (age == 14)
