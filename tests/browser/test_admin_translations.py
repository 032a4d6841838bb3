"""In Chromium against a live server: the municipality's administrator enters a site's name in
English and Korean in the admin and saves the form; the residents' booking pages then name the
site so in each language (and in Japanese where nothing was entered), axe-core clean."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from madoguchi.core import clock
from madoguchi.core.models import AuditEvent
from madoguchi.demo.city import DEMO_MUNICIPALITY_CODE
from madoguchi.offices.models import Site, SiteKind
from tests import live_worlds
from tests.conftest import axe_violations
from tests.frozen_clock import frozen_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 11, 26)
ENGLISH = "Demo City Hall, main counters"
KOREAN = "데모시청 본관 창구"
"""Not the demo's own names (demo.names): the test clears those first."""


def test_a_site_named_in_the_admin_per_language_is_so_named_on_the_residents_pages(
    page: Any, live_server: Any
) -> None:
    with frozen_at(clock.at(TODAY, dt.time(10, 0)), tick=True):
        live_worlds.demo_city_signed_in(page, live_server.url, residents=200, seed=5, today=TODAY)
        site = Site.objects.get(
            municipality__code=DEMO_MUNICIPALITY_CODE, kind=SiteKind.MAIN_OFFICE
        )
        japanese = site.name
        # the demo names its sites in every language: start from a site named in Japanese only
        Site.objects.filter(pk=site.pk).update(translations={})

        page.goto(f"{live_server.url}/admin/offices/site/{site.pk}/change/")
        page.fill("#id_name__en", ENGLISH)
        page.fill("#id_name__ko", KOREAN)
        page.locator("input[name=_save]").click()
        page.wait_for_url(f"{live_server.url}/admin/offices/site/")
        site.refresh_from_db()
        assert site.name == japanese
        assert site.translations["en"]["name"] == ENGLISH
        assert site.translations["ko"]["name"] == KOREAN
        event = AuditEvent.objects.filter(
            action="admin.change", subject_type="offices.Site", subject_id=str(site.pk)
        ).latest("at")
        assert event.after["translations"] == site.translations

        for language, name in (("en", ENGLISH), ("ko", KOREAN), ("vi", japanese)):
            page.goto(f"{live_server.url}/lang/{language}/")  # the card pick-up booking in it
            assert page.locator("html").get_attribute("lang") == language
            assert page.get_by_role("heading", name=name, exact=False).first.is_visible()
            violations = axe_violations(page)
            assert violations == [], f"{page.url}: {violations}"
