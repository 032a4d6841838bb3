"""The browser sweep of the residents' pages in every language (`tests/browser/test_languages.py`)
covers every residents' page: every public URL is one of its pages or named here with the reason
it is not a page; every page template residents can be shown is rendered by one of its pages (or
by its form tests) — checked by asking each page with Django's test client and reading the
templates it rendered. A new residents' URL or page template fails here until the sweep opens it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import resolve
from django.utils import translation

import madoguchi
from tests.browser.test_languages import COOKIES, PAGES, Town, build_town
from tests.conftest import SUITE_SETTINGS
from tests.frozen_clock import frozen_at
from tests.offices.test_municipality_isolation import public_routes
from tests.resident_site import factories

NOT_PAGES: dict[str, str] = {
    "resident_site:in_language": "a redirect to the booking in that language (keeps the cookie)",
    "resident_site:ics": "a calendar file (text/calendar), not a page",
    "queue_board:board_json": "the JSON the waiting-room display polls",
    "queue_board:cancel": "POST only: gives up the ticket and goes back to the ticket's page",
}
"""Public URLs that are not pages, and why (the API's URLs are JSON: all left out)."""

BY_FORM: dict[str, str] = {
    "resident_site/confirm.html": (
        "test_the_confirmation_in_every_language_is_accessible_with_its_lang"
    ),
    "403_csrf.html": (
        "test_a_form_sent_without_its_cookie_in_every_language_is_accessible_with_its_lang"
    ),
}
"""Page templates reached only by sending a form, and the sweep's test that sends it."""

NOT_SWEPT: dict[str, str] = {
    "resident_site/municipalities.html": (
        "the list of municipalities at the root of a deployment serving several: the sweep's "
        "town is the only one; tests/browser/test_municipality_sites.py checks it with axe"
    ),
    "400.html": (
        "Django's own 400 (a Host header not allowed) cannot be asked for by a browser; it "
        "includes error.html, which the sweep's refused request renders with its lang"
    ),
    "403.html": "the staff side's refusal (staff.access), not a residents' page",
}
"""Page templates the sweep does not open, and why."""

LAYOUTS = ("base.html", "queue_board/base.html")
"""Layouts every page extends (checked through the pages)."""


def _sample_town() -> Any:
    """Enough of a `Town` to write every page's path (values that resolve, never read)."""
    moment = dt.datetime(2026, 6, 10, 9, 0, tzinfo=dt.UTC)
    slot = SimpleNamespace(pk=1, starts_at=moment)
    return SimpleNamespace(
        city=SimpleNamespace(site=SimpleNamespace(pk=1)),
        slot=slot,
        other_slot=slot,
        full_slot=slot,
        family_slot=slot,
        booked=SimpleNamespace(code="ACDEFGHJKL"),
        ticket_token="token",
        kiosk_cookie="cookie",
        kiosk_activation="activation",
        resident_cookie="cookie",
        url="",
    )


def _view_name(path: str) -> str:
    return resolve(path.split("?")[0], urlconf="madoguchi.public_urls").view_name


def test_every_public_url_is_a_page_of_the_sweep_or_named_as_not_a_page() -> None:
    town = _sample_town()
    swept = {_view_name(make(town)) for make in PAGES.values()}
    routes = {name for name, _route in public_routes() if not name.startswith("api_v1:")}
    assert routes - swept - set(NOT_PAGES) == set(), "open these in the sweep (PAGES)"
    assert set(NOT_PAGES) <= routes - swept, "a URL left out here is gone, or swept now"


def _page_templates() -> set[str]:
    """Every full-page template of the residents' side (partials start with an underscore)."""
    root = Path(madoguchi.__file__).parent
    found = {p.name for p in (root / "templates").glob("*.html")}
    for app in ("resident_site", "queue_board"):
        folder = root / app / "templates" / app
        found |= {f"{app}/{p.name}" for p in folder.glob("*.html")}
    return {name for name in found if not Path(name).name.startswith("_")} - set(LAYOUTS)


@pytest.fixture
def sweep_town(db: None) -> Iterator[Town]:
    with frozen_at(factories.NOW), override_settings(**SUITE_SETTINGS):
        yield build_town()


def _rendered(town: Town, name: str, code: str) -> tuple[int, set[str], str]:
    translation.activate(settings.LANGUAGE_CODE)  # as a server thread starts each request
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = code
    for cookie, value in (COOKIES[name](town) if name in COOKIES else {}).items():
        client.cookies[cookie] = value
    response = client.get(PAGES[name](town))
    names = {t.name for t in response.templates if t.name}
    return response.status_code, names, response.content.decode()


def test_every_residents_page_template_is_rendered_by_the_sweep(sweep_town: Town) -> None:
    rendered: dict[str, str] = {}
    with frozen_at(factories.NOW), override_settings(**SUITE_SETTINGS):
        for name in PAGES:
            status, names, html = _rendered(sweep_town, name, "en")
            assert status < 500, (name, status)
            assert '<html lang="en"' in html or name == "display", name
            for template in names:
                rendered.setdefault(template, name)
    templates = _page_templates()
    missing = templates - set(rendered) - set(BY_FORM) - set(NOT_SWEPT)
    assert missing == set(), "open a page rendering these in the sweep (PAGES)"
    assert set(BY_FORM) | set(NOT_SWEPT) <= templates, "a template named here is gone"
    assert not set(NOT_SWEPT) & set(rendered), "swept now: take it off NOT_SWEPT"


def test_the_sweeps_pages_are_the_ones_they_are_named_for(sweep_town: Town) -> None:
    """The pages added for templates no other page renders render them (a page that quietly
    fell back to another — a kiosk without its cookie, a time with seats — would not)."""
    expected = {
        "kiosk": "queue_board/kiosk_refused.html",
        "kiosk-registered": "queue_board/kiosk.html",
        "kiosk-activate": "queue_board/kiosk_activate.html",
        "kiosk-ticket": "queue_board/kiosk_ticket.html",
        "slot-full": "resident_site/full.html",
        "slot-family": "resident_site/identify.html",
        "reservation": "resident_site/reservation.html",
        "cancel": "resident_site/cancel.html",
        "reschedule-slot": "resident_site/reschedule_confirm.html",
        "not-found": "404.html",
        "refused": "error.html",
    }
    with frozen_at(factories.NOW), override_settings(**SUITE_SETTINGS):
        for name, template in expected.items():
            _status, names, html = _rendered(sweep_town, name, "ko")
            assert template in names, (name, sorted(names))
            assert '<html lang="ko"' in html, name
        # two people: the form asks for the second one too
        _status, _names, html = _rendered(sweep_town, "slot-family", "ja")
        assert 'name="members" value="1"' in html and 'name="member1-notice_number"' in html
