"""Every residents' page in every language offered, in Chromium: `<html lang>` is the language
chosen, the switch offers every language in its own name, and axe-core finds no WCAG 2.0/2.1 A
or AA violation. The sweep runs with JavaScript off (the pages need none; axe-core checks each
page as the browser built it without scripting); one pass runs with JavaScript on
(docs/languages.md). Each page in each language is a test of its own, so pytest-xdist spreads
them; the town they read is built once."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core import signing
from django.db.models import F

from madoguchi.core.audit import Actor
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.reservations.slots import regenerate_site_slots
from madoguchi.resident_site import kept
from madoguchi.walkins import services as walkins
from madoguchi.walkins.kiosks import COOKIE_NAME as KIOSK_COOKIE
from madoguchi.walkins.kiosks import activate_kiosk, register_kiosk
from madoguchi.walkins.models import TicketChannel
from tests.conftest import SUITE_SETTINGS, axe_violations_and
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, VISIT_DAY

pytestmark = [pytest.mark.browser]

LANGUAGES = [code for code, _name in settings.LANGUAGES]
DISPLAY = re.compile(r"/queue/sites/\d+/")


@dataclass
class Town:
    city: factories.City
    slot: Slot
    other_slot: Slot
    full_slot: Slot
    """A time with no seat left: its page is the one that says so (full.html)."""
    family_slot: Slot
    """A time with three seats: a family of two may book it together."""
    booked: Reservation
    ticket_token: str
    kiosk_cookie: str
    """The cookie of the site's registered kiosk (the kiosk page proper, not its refusal)."""
    kiosk_activation: str
    """A registered kiosk's activation link, not yet opened."""
    resident_cookie: str
    """The residents' cookie of a browser that looked the booking up (its pages need it)."""
    url: str
    """The live server's address."""


def build_town(url: str = "") -> Town:
    """The residents' town every page of the sweep reads (the clock at `factories.NOW`)."""
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
    full, family = day_slots[len(day_slots) // 2], day_slots[1]
    Slot.objects.filter(pk=full.pk).update(capacity=F("booked"))
    Slot.objects.filter(pk=family.pk).update(capacity=F("booked") + 3)
    booked = factories.book_card_pickup(city, n=900)
    ticket = walkins.issue_ticket(
        site=city.site,
        procedure=city.renewal,
        actor=Actor.resident(),
        channel=TicketChannel.PHONE,
    )
    _device, token = register_kiosk(site=city.site, name="入口", actor=Actor.system("test"))
    _device, cookie = activate_kiosk(token=token, actor=Actor.system("test"))
    _pending, pending = register_kiosk(site=city.site, name="2階", actor=Actor.system("test"))
    looked_up = signing.dumps(
        {"access": {booked.code: BIRTH.isoformat()}}, salt=kept.SALT, compress=True
    )
    return Town(
        city,
        day_slots[0],
        day_slots[-1],
        full,
        family,
        booked,
        ticket.token,
        cookie,
        pending,
        looked_up,
        url,
    )


@pytest.fixture(scope="module")
def town(live_server: Any, django_db_setup: None, django_db_blocker: Any) -> Iterator[Town]:
    """The residents' town, built and committed ONCE for the module's tests (one page in one
    language each, only reading): the live server's thread reads it through its own
    connection. The tests here are not transactional ones (`_live_server_helper` below), so
    nothing flushes it between them; the module's end flushes the database as a transactional
    test's end does."""
    from django.core.management import call_command
    from django.test import override_settings

    from tests import personas

    personas.release(django_db_blocker)  # a kept world's open transaction would hide the town
    with (
        frozen_at(factories.NOW, tick=True),
        django_db_blocker.unblock(),
    ):
        try:
            with override_settings(**SUITE_SETTINGS):
                built = build_town(live_server.url)
            yield built
        finally:
            call_command("flush", verbosity=0, interactive=False)


@pytest.fixture(autouse=True)
def _live_server_helper(live_server: Any, django_db_blocker: Any) -> Iterator[None]:
    """pytest-django's helper of the same name makes every live-server test a transactional
    one, whose end flushes the database; these tests only read the module's town, so they get
    the live server's settings and database access without the flush."""
    live_server._live_server_modified_settings.enable()
    try:
        with django_db_blocker.unblock():
            yield
    finally:
        live_server._live_server_modified_settings.disable()


PAGES: dict[str, Callable[[Town], str]] = {
    "home": lambda town: "/",
    "renew": lambda town: "/renew/",
    "renew-expires": lambda town: "/renew/?expires=2026-09-30",
    "book": lambda town: "/book/",
    "procedure": lambda town: "/book/card_pickup/",
    "month": lambda town: f"/book/card_pickup/{town.city.site.pk}/",
    "day": lambda town: f"/book/card_pickup/{town.city.site.pk}/{VISIT_DAY.isoformat()}/",
    "slot": lambda town: f"/book/card_pickup/slot/{town.slot.pk}/",
    "lookup": lambda town: "/lookup/",
    "reservation": lambda town: f"/reservation/{town.booked.code}/",
    "cancel": lambda town: f"/reservation/{town.booked.code}/cancel/",
    "reschedule": lambda town: f"/reservation/{town.booked.code}/reschedule/",
    "reschedule-day": lambda town: (
        f"/reservation/{town.booked.code}/reschedule/{town.other_slot.starts_at.date()}/"
    ),
    "reschedule-slot": lambda town: (
        f"/reservation/{town.booked.code}/reschedule/slot/{town.other_slot.pk}/"
    ),
    "queue": lambda town: "/queue/",
    "display": lambda town: f"/queue/sites/{town.city.site.pk}/",  # the waiting-room display
    "take": lambda town: f"/queue/sites/{town.city.site.pk}/take/",
    "kiosk": lambda town: f"/queue/sites/{town.city.site.pk}/kiosk/",  # not a kiosk: refused
    "kiosk-registered": lambda town: f"/queue/sites/{town.city.site.pk}/kiosk/",
    "kiosk-activate": lambda town: f"/queue/kiosk/activate/{town.kiosk_activation}/",
    "kiosk-ticket": lambda town: f"/queue/kiosk/tickets/{town.ticket_token}/",
    "ticket": lambda town: f"/queue/tickets/{town.ticket_token}/",
    # family booking: the day for two people, the form of who is coming for two
    "day-family": lambda town: (
        f"/book/card_pickup/{town.city.site.pk}/{VISIT_DAY.isoformat()}/?people=2"
    ),
    "slot-family": lambda town: f"/book/card_pickup/slot/{town.family_slot.pk}/?people=2",
    "slot-full": lambda town: f"/book/card_pickup/slot/{town.full_slot.pk}/",
    # the error pages: not found, and a request refused (a NUL character in it)
    "not-found": lambda town: "/book/card_pickup/slot/999999/",
    "refused": lambda town: "/lookup/?code=%00",
}
"""Every residents' page reachable with GET (the confirmation and a form sent without its
cookie are reached by a form: tests of their own below). A new residents' URL or page template
fails `tests/resident_site/test_language_sweep_coverage.py` until it is here."""

LOOKED_UP = ("reservation", "cancel", "reschedule", "reschedule-day", "reschedule-slot")
"""A booking's pages open for a browser that looked it up (else they lead to the look-up)."""

COOKIES: dict[str, Callable[[Town], dict[str, str]]] = {
    "kiosk-registered": lambda town: {KIOSK_COOKIE: town.kiosk_cookie},
    **{name: (lambda town: {kept.COOKIE: town.resident_cookie}) for name in LOOKED_UP},
}
"""Cookies a page of PAGES is opened with besides the language's."""


@pytest.fixture(scope="module")
def phones(chromium: Any) -> Iterator[dict[bool, Any]]:
    """One phone-sized page with JavaScript on and one with it off, kept for the module's tests:
    a browser context and its page cost more than the page check itself (a renderer process
    each), and a kept page keeps the stylesheets in its cache. `_opened` hands each test one
    with nothing of the test before it."""
    contexts = {
        javascript: chromium.new_context(
            java_script_enabled=javascript, locale="ja-JP", viewport={"width": 390, "height": 844}
        )
        for javascript in (True, False)
    }
    try:
        yield {javascript: context.new_page() for javascript, context in contexts.items()}
    finally:
        for context in contexts.values():
            context.close()


@contextlib.contextmanager
def _opened(
    phones: dict[bool, Any],
    town: Town,
    code: str,
    *,
    javascript: bool,
    cookies: dict[str, str] | None = None,
) -> Iterator[Any]:
    """The kept page, its cookies only the language `code` and `cookies` (no session, no kept
    booking of the test before), its storage empty; with JavaScript on, afterwards on a blank
    page, so nothing of this test's page runs on (a display's polling). A page with JavaScript
    off stores nothing and runs nothing: the next test's page simply replaces it."""
    page = phones[javascript]
    page.context.clear_cookies()
    given = {settings.LANGUAGE_COOKIE_NAME: code, **(cookies or {})}
    page.context.add_cookies([{"name": k, "value": v, "url": town.url} for k, v in given.items()])
    try:
        yield page
    finally:
        if javascript:  # a page without JavaScript neither stores anything nor runs on
            if page.url.startswith(town.url):
                page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
            page.goto("about:blank")


_LANGUAGE_MARKS = """() => [
    document.documentElement.getAttribute("lang"),
    Array.from(document.querySelectorAll("#language-select option"), (o) => [o.value, o.lang]),
]"""
"""The page's `<html lang>` and what its language switch offers (value and lang of each
option; none when the page has no switch), read in the call that takes the page's fingerprint
for axe-core (`tests.conftest.axe_violations_and`)."""


def _check(page: Any, code: str, url: str) -> list[str]:
    problems = []
    violations, (lang, offered) = axe_violations_and(page, _LANGUAGE_MARKS)
    # The waiting-room display is bilingual whatever the language: Japanese, with English parts
    # marked lang="en".
    if lang != ("ja" if DISPLAY.fullmatch(url) else code):
        problems.append(f"{code} {url}: <html lang={lang!r}>")
    if offered and offered != [[c, c] for c in LANGUAGES]:
        problems.append(f"{code} {url}: switch offers {offered}")
    if violations:
        problems.append(f"{code} {url}: {violations}")
    return problems


def _page_problems(
    phones: dict[bool, Any], town: Town, code: str, name: str, *, javascript: bool
) -> list[str]:
    cookies = COOKIES[name](town) if name in COOKIES else None
    with _opened(phones, town, code, javascript=javascript, cookies=cookies) as page:
        url = PAGES[name](town)
        page.goto(town.url + url)
        return _check(page, code, url)


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("code", LANGUAGES)
def test_every_residents_page_in_every_language_is_accessible_with_its_lang(
    phones: dict[bool, Any], town: Town, code: str, name: str
) -> None:
    """The sweep runs with JavaScript off: the pages need none."""
    assert _page_problems(phones, town, code, name, javascript=False) == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_confirmation_in_every_language_is_accessible_with_its_lang(
    phones: dict[bool, Any], town: Town, code: str
) -> None:
    """The form of who is coming, filled in and sent (JavaScript off): the confirmation page."""
    with _opened(phones, town, code, javascript=False) as page:
        page.goto(f"{town.url}/book/card_pickup/slot/{town.slot.pk}/")
        page.fill("#id_notice_number", f"LNG{100000 + LANGUAGES.index(code)}")
        page.select_option("#id_birth_date_year", str(BIRTH.year))
        page.select_option("#id_birth_date_month", str(BIRTH.month))
        page.select_option("#id_birth_date_day", str(BIRTH.day))
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()
        assert page.locator("main form").count(), page.url  # the confirmation's form
        assert _check(page, code, "confirmation") == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_form_sent_without_its_cookie_in_every_language_is_accessible_with_its_lang(
    phones: dict[bool, Any], town: Town, code: str
) -> None:
    """The look-up sent after its CSRF cookie went (a browser that cleared its cookies): the
    page that says what to do (403_csrf.html)."""
    with _opened(phones, town, code, javascript=False) as page:
        page.goto(f"{town.url}/lookup/")
        page.context.clear_cookies()
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": code, "url": town.url}]
        )
        page.fill("#id_code", town.booked.code)
        page.select_option("#id_birth_date_year", str(BIRTH.year))
        page.select_option("#id_birth_date_month", str(BIRTH.month))
        page.select_option("#id_birth_date_day", str(BIRTH.day))
        with page.expect_navigation() as sent:
            page.locator("main form button[type=submit]").first.click()
        response = sent.value
        assert response is not None and response.status == 403, page.url
        assert _check(page, code, "refused form") == []


@pytest.mark.parametrize("name", PAGES)
def test_one_pass_with_javascript_on(phones: dict[bool, Any], town: Town, name: str) -> None:
    assert _page_problems(phones, town, "vi", name, javascript=True) == []
