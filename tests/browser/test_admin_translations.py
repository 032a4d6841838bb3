"""In Chromium against a live server: the municipality's administrator enters a site's name in
English and Korean in the admin and saves the form; the residents' booking pages then name the
site so in each language (and in Japanese where nothing was entered), axe-core clean. The bookings
still to come there go one revision up (their .ics LOCATION changed), and those booked in
English or Korean are mailed the new name over SMTP (decision 0044)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from icalendar import Calendar

from madoguchi.core import clock
from madoguchi.core.models import AuditEvent
from madoguchi.demo.city import DEMO_MUNICIPALITY_CODE
from madoguchi.offices.models import Site, SiteKind
from madoguchi.reservations.models import Reservation, ReservationStatus
from tests import live_worlds
from tests.conftest import axe_violations
from tests.frozen_clock import frozen_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 11, 26)
ENGLISH = "Demo City Hall, main counters"
KOREAN = "데모시청 본관 창구"
"""Not the demo's own names (demo.names): the test clears those first."""


def test_a_site_named_in_the_admin_per_language_is_so_named_on_the_residents_pages(
    page: Any, live_server: Any, smtp_inbox: Any
) -> None:
    opens = clock.at(TODAY, dt.time(10, 0))
    with frozen_at(opens, tick=True):
        live_worlds.demo_city_signed_in(page, live_server.url, residents=200, seed=5, today=TODAY)
        site = Site.objects.get(
            municipality__code=DEMO_MUNICIPALITY_CODE, kind=SiteKind.MAIN_OFFICE
        )
        japanese = site.name
        # the demo names its sites in every language: start from a site named in Japanese only
        Site.objects.filter(pk=site.pk).update(translations={})
        revisions = dict(Reservation.objects.values_list("pk", "revision"))
        coming = Reservation.objects.filter(
            slot__site=site, status=ReservationStatus.BOOKED, slot__starts_at__gt=opens
        ).order_by("slot__starts_at", "pk")
        # the demo's bookings have no e-mail: three residents of its bookings to come get one
        told = {}
        for booked, language in zip(coming[:3], ("en", "ko", "ja"), strict=True):
            Reservation.objects.filter(pk=booked.pk).update(
                language=language, email=f"{language}@example.jp"
            )
            told[f"{language}@example.jp"] = booked.code
        raised = set(coming.values_list("pk", flat=True))
        assert len(raised) > 3 and len(revisions) > len(raised)

        page.goto(f"{live_server.url}/admin/offices/site/{site.pk}/change/")
        violations = axe_violations(page)
        assert violations == [], f"{page.url}: {violations}"
        page.fill("#id_name__en", ENGLISH)
        page.fill("#id_name__ko", KOREAN)
        page.locator("input[name=_save]").click()
        page.wait_for_url(f"{live_server.url}/admin/offices/site/")
        notice = page.locator(".messagelist .info")
        assert f"これからの予約{len(raised)}件" in notice.inner_text()
        violations = axe_violations(page)
        assert violations == [], f"{page.url}: {violations}"
        site.refresh_from_db()
        assert site.name == japanese
        assert site.translations["en"]["name"] == ENGLISH
        assert site.translations["ko"]["name"] == KOREAN
        event = AuditEvent.objects.filter(
            action="admin.change", subject_type="offices.Site", subject_id=str(site.pk)
        ).latest("at")
        assert event.after["translations"] == site.translations
        # one revision up for exactly the bookings still to come there (not the visitors
        # checked in or served, not the past, not the other sites), each audited
        after = dict(Reservation.objects.values_list("pk", "revision"))
        after_codes = dict(Reservation.objects.values_list("code", "pk"))
        assert {pk for pk in after if after[pk] != revisions[pk]} == raised
        assert all(after[pk] == revisions[pk] + 1 for pk in raised)
        assert AuditEvent.objects.filter(action="reservation.new_place").count() == len(raised)
        # told in their language: the Japanese booking's name did not change
        mailed = {message["To"]: message for message in smtp_inbox.messages}
        assert set(mailed) == {"en@example.jp", "ko@example.jp"}
        for address, name in (("en@example.jp", ENGLISH), ("ko@example.jp", KOREAN)):
            (text,) = [p for p in mailed[address].walk() if p.get_content_type() == "text/plain"]
            body = text.get_payload(decode=True).decode("utf-8")
            assert told[address] in body and name in body and japanese not in body
            (ics,) = [p for p in mailed[address].walk() if p.get_filename()]
            (entry,) = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
            assert str(entry["location"]).startswith(f"{name} ")
            assert entry["sequence"] == revisions[after_codes[told[address]]] + 1

        for language, name in (("en", ENGLISH), ("ko", KOREAN), ("vi", japanese)):
            page.goto(f"{live_server.url}/lang/{language}/")  # the card pick-up booking in it
            assert page.locator("html").get_attribute("lang") == language
            assert page.get_by_role("heading", name=name, exact=False).first.is_visible()
            violations = axe_violations(page)
            assert violations == [], f"{page.url}: {violations}"
