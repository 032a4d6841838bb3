"""Every residents' page in every language offered, in Chromium: `<html lang>` is the language
chosen, the switch offers every language in its own name, and axe-core finds no WCAG 2.0/2.1 A
or AA violation. The sweep runs with JavaScript off (the pages need none; axe checks the served
HTML in a twin page); one pass runs with JavaScript on (docs/languages.md)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings

from madoguchi.core.audit import Actor
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.reservations.slots import regenerate_site_slots
from madoguchi.walkins import services as walkins
from madoguchi.walkins.models import TicketChannel
from tests.conftest import axe_violations
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, VISIT_DAY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = [code for code, _name in settings.LANGUAGES]
DISPLAY = re.compile(r"/queue/sites/\d+/")


@dataclass
class Town:
    city: factories.City
    slot: Slot
    other_slot: Slot
    booked: Reservation
    ticket_token: str


@pytest.fixture
def town(live_server: Any) -> Iterator[Town]:
    with frozen_at(factories.NOW, tick=True):
        city = factories.city()
        regenerate_site_slots(
            site=city.site,
            first=dt.date(2026, 6, 4),
            last=dt.date(2026, 6, 30),
            actor=Actor.system("test"),
        )
        for n, _code in enumerate(LANGUAGES):  # one notice per language for the form
            factories.notice_card(city.municipality, notice=f"LNG{100000 + n}")
        slots = Slot.objects.filter(site=city.site, procedure=city.pickup).order_by("starts_at")
        day_slots = [s for s in slots if s.starts_at.date() == VISIT_DAY]
        booked = factories.book_card_pickup(city, n=900)
        ticket = walkins.issue_ticket(
            site=city.site,
            procedure=city.renewal,
            actor=Actor.resident(),
            channel=TicketChannel.PHONE,
        )
        yield Town(city, day_slots[0], day_slots[-1], booked, ticket.token)


def pages(town: Town) -> list[str]:
    """Every residents' page reachable with GET (the confirmation is reached by the form)."""
    site, code = town.city.site.pk, town.booked.code
    other_day = town.other_slot.starts_at.date().isoformat()
    return [
        "/",
        "/renew/",
        "/renew/?expires=2026-09-30",
        "/book/",
        "/book/card_pickup/",
        f"/book/card_pickup/{site}/",
        f"/book/card_pickup/{site}/{VISIT_DAY.isoformat()}/",
        f"/book/card_pickup/slot/{town.slot.pk}/",
        "/lookup/",
        f"/reservation/{code}/",
        f"/reservation/{code}/cancel/",
        f"/reservation/{code}/reschedule/",
        f"/reservation/{code}/reschedule/{other_day}/",
        f"/reservation/{code}/reschedule/slot/{town.other_slot.pk}/",
        "/queue/",
        f"/queue/sites/{site}/",  # the waiting-room display
        f"/queue/sites/{site}/take/",
        f"/queue/sites/{site}/kiosk/",
        f"/queue/tickets/{town.ticket_token}/",
        "/reservation/NOSUCHCODE/",  # the 404 page
    ]


def _context(chromium: Any, live_server: Any, code: str, *, javascript: bool) -> Any:
    context = chromium.new_context(
        java_script_enabled=javascript, locale="ja-JP", viewport={"width": 390, "height": 844}
    )
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": code, "url": live_server.url}]
    )
    return context


def _check(page: Any, code: str, url: str) -> list[str]:
    problems = []
    lang = page.locator("html").get_attribute("lang")
    # The waiting-room display is bilingual whatever the language: Japanese, with English parts
    # marked lang="en".
    if lang != ("ja" if DISPLAY.fullmatch(url) else code):
        problems.append(f"{code} {url}: <html lang={lang!r}>")
    switch = page.locator("#language-select option")
    if switch.count():
        offered = switch.evaluate_all("options => options.map(o => [o.value, o.lang])")
        if offered != [[c, c] for c in LANGUAGES]:
            problems.append(f"{code} {url}: switch offers {offered}")
    violations = axe_violations(page)
    if violations:
        problems.append(f"{code} {url}: {violations}")
    return problems


def _confirmation(page: Any, live_server: Any, town: Town, n: int) -> None:
    """The form of who is coming, filled in and sent: the confirmation page."""
    page.goto(f"{live_server.url}/book/card_pickup/slot/{town.slot.pk}/")
    page.fill("#id_notice_number", f"LNG{100000 + n}")
    page.select_option("#id_birth_date_year", str(BIRTH.year))
    page.select_option("#id_birth_date_month", str(BIRTH.month))
    page.select_option("#id_birth_date_day", str(BIRTH.day))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_residents_page_in_every_language_is_accessible_with_its_lang(
    live_server: Any, chromium: Any, town: Town, code: str
) -> None:
    context = _context(chromium, live_server, code, javascript=False)
    problems: list[str] = []
    try:
        page = context.new_page()
        for url in pages(town):
            page.goto(live_server.url + url)
            problems += _check(page, code, url)
        _confirmation(page, live_server, town, LANGUAGES.index(code))
        assert page.locator("main form").count(), page.url  # the confirmation's form
        problems += _check(page, code, "confirmation")
    finally:
        context.close()
    assert problems == []


def test_one_pass_with_javascript_on(live_server: Any, chromium: Any, town: Town) -> None:
    code = "vi"
    context = _context(chromium, live_server, code, javascript=True)
    problems: list[str] = []
    try:
        page = context.new_page()
        for url in pages(town):
            page.goto(live_server.url + url)
            problems += _check(page, code, url)
    finally:
        context.close()
    assert problems == []
