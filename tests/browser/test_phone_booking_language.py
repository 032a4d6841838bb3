"""A phone booking in the resident's language, in Chromium against a live server: the clerk
chooses the language on the staff console's phone-booking form (Japanese preselected), the
booking keeps it, and the confirmation arrives over real SMTP (a local aiosmtpd server) in that
language — the clerk's pages stay Japanese. Every page axe-clean."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.core import clock
from madoguchi.reservations.models import Channel, Reservation
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import SmtpInbox, accessible, sign_in_browser
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE, VISIT_DAY
from tests.resident_site.test_mail_languages import JAPANESE_FIXED, SAYS
from tests.resident_site.test_visit_ics_mail import body_of, subject_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(live_server: Any) -> Iterator[factories.City]:
    with frozen_at(factories.NOW, tick=True):
        city = factories.city()
        factories.notice_card(city.municipality)
        factories.slot(city.site, city.pickup, time="10:00")
        user = StaffUser.objects.create_user(
            "official", password="pw-for-tests", role=Role.OFFICIAL, municipality=city.municipality
        )
        user.sites.set([city.site])
        yield city


def test_a_clerk_books_by_phone_in_english_and_the_confirmation_arrives_in_english(
    live_server: Any, page: Any, desk: factories.City, smtp_inbox: SmtpInbox
) -> None:
    site = desk.site
    sign_in_browser(page, live_server.url, StaffUser.objects.get(username="official"))

    page.goto(f"{live_server.url}/staff/sites/{site.pk}/phone-booking/")
    page.select_option("#id_procedure", "card_pickup")
    page.fill("#id_day", VISIT_DAY.isoformat())
    page.get_by_role("button", name="空き時間を表示").click()
    assert page.locator("#id_language").input_value() == "ja"  # Japanese unless chosen
    accessible(page)
    page.select_option("#id_slot", index=1)
    page.fill("#id_notice_number", NOTICE)
    page.select_option("#id_birth_date_year", str(BIRTH.year))
    page.select_option("#id_birth_date_month", str(BIRTH.month))
    page.select_option("#id_birth_date_day", str(BIRTH.day))
    page.fill("#id_email", "hanako@example.jp")
    page.get_by_label("ご本人の言語").select_option(label="English")
    page.get_by_role("button", name="予約する").click()

    assert page.get_by_text("予約しました。予約コード").is_visible()  # the clerk's own language
    accessible(page)
    booked = Reservation.objects.get()
    assert (booked.channel, booked.language) == (Channel.PHONE, "en")
    assert clock.to_jst(booked.slot.starts_at).time() == dt.time(10)

    # sent by the booking service after its commit, before the page answered
    (confirmation,) = smtp_inbox.messages
    assert confirmation["To"] == "hanako@example.jp"
    assert subject_of(confirmation).startswith(SAYS["en"].confirmation_subject)
    body = body_of(confirmation)
    assert SAYS["en"].confirmation_body in body
    assert f"{SAYS['en'].code_label}{booked.code}" in body
    assert not JAPANESE_FIXED.search(body), body
