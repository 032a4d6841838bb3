"""Two municipalities on one deployment, in Chromium with JavaScript on and off: the root lists
both residents' sites (axe clean), each site at /m/<code>/ keeps its prefix through the whole
booking — month, times, the form, the confirmation, the reservation, the look-up — and books
at its own site only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.core.audit import Actor
from madoguchi.offices.models import Municipality
from madoguchi.reservations.models import Reservation
from madoguchi.reservations.slots import regenerate_site_slots
from tests import live_worlds
from tests.browser.booking_pages import book_through_pages, send_booking
from tests.conftest import accessible
from tests.frozen_clock import frozen_at
from tests.offices import factories as offices
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECOND_CODE = "999989"
SECOND_SITE = "ベータ町役場 住民課"


@pytest.fixture
def towns(live_server: Any) -> Iterator[tuple[factories.City, Municipality]]:
    with frozen_at(factories.NOW, tick=True):
        yield live_worlds.committed((__name__, "towns"), _build_towns)


def _build_towns() -> tuple[factories.City, Municipality]:
    first = factories.city()
    second = offices.municipality(code=SECOND_CODE, name="ベータ町")
    site = offices.site(second, name=SECOND_SITE)
    site.procedures.set([first.pickup, first.renewal])
    for each in (first.site, site):
        regenerate_site_slots(
            site=each,
            first=dt.date(2026, 6, 4),
            last=dt.date(2026, 6, 30),
            actor=Actor.system("test"),
        )
    return first, second


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_resident_chooses_a_municipality_and_books_there_with_javascript_on_and_off(
    live_server: Any, chromium: Any, towns: tuple[factories.City, Municipality], javascript: bool
) -> None:
    first, second = towns
    context = chromium.new_context(java_script_enabled=javascript, locale="ja-JP")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        accessible(page)
        assert page.get_by_role("link", name=first.municipality.name).is_visible()
        page.get_by_role("link", name="ベータ町").click()
        assert page.url == f"{live_server.url}/m/{SECOND_CODE}/"
        accessible(page)
        assert SECOND_SITE in page.content() and first.site.name not in page.content()

        page.get_by_role("link", name="来庁を予約する").first.click()
        page.get_by_role("link", name="電子証明書の更新").click()
        book_through_pages(page, SECOND_SITE)
        assert page.url.startswith(f"{live_server.url}/m/{SECOND_CODE}/book/")
        accessible(page)
        page.fill("#id_family_name_kana", "ヤマダ")
        page.fill("#id_given_name_kana", "ハナコ")
        page.select_option("#id_birth_date_year", str(BIRTH.year))
        page.select_option("#id_birth_date_month", str(BIRTH.month))
        page.select_option("#id_birth_date_day", str(BIRTH.day))
        page.fill("#id_phone", "0312345678")
        send_booking(page)
        accessible(page)

        booked = Reservation.objects.get()
        assert booked.slot.site.municipality_id == second.pk
        assert page.url == f"{live_server.url}/m/{SECOND_CODE}/reservation/{booked.code}/"
        assert page.locator(".summary .code").inner_text() == booked.code

        # the look-up form of the other municipality's site does not find it
        page.goto(f"{live_server.url}/m/{first.municipality.code}/lookup/")
        page.fill("#id_code", booked.code)
        page.select_option("#id_birth_date_year", str(BIRTH.year))
        page.select_option("#id_birth_date_month", str(BIRTH.month))
        page.select_option("#id_birth_date_day", str(BIRTH.day))
        page.get_by_role("button", name="予約を表示する").click()
        assert page.url.startswith(f"{live_server.url}/m/{first.municipality.code}/lookup/")
        assert page.get_by_role("alert").is_visible()
        accessible(page)
    finally:
        context.close()
