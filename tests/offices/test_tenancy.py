"""offices.tenancy: which municipality a public request is for, and where links point."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from madoguchi.issuance.notices import booking_urls, notice_context
from madoguchi.offices.models import Municipality
from madoguchi.offices.tenancy import resident_base_url, resident_url
from madoguchi.reservations import mail
from madoguchi.reservations.visit import Visit
from tests.offices import factories as offices
from tests.resident_site import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

BASE = "https://yoyaku.example.lg.jp"


@pytest.fixture
def base(settings: Any) -> None:
    settings.PUBLIC_BASE_URL = BASE


def test_one_municipality_keeps_its_site_at_the_root(base: None) -> None:
    city = factories.city()
    assert resident_base_url(city.municipality) == BASE
    assert Client().get("/").status_code == 200
    assert city.site.name in Client().get("/").content.decode()
    # its path works too
    assert city.site.name in Client().get(f"/m/{city.municipality.code}/").content.decode()


def _second() -> Municipality:
    second = offices.municipality(code="999989", name="ベータ町")
    offices.site(second, name="ベータ町役場")
    return second


def test_with_several_the_root_lists_them_and_other_paths_need_one(base: None) -> None:
    city = factories.city()
    second = _second()
    root = Client().get("/").content.decode()
    assert f'href="/m/{city.municipality.code}/"' in root and 'href="/m/999989/"' in root
    assert city.site.name not in root  # no site of anybody on the list
    assert Client().get("/book/").status_code == 404
    api = Client().get("/api/v1/sites")
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    assert Client().get("/api/v1/openapi.json").status_code == 200  # the API's description
    assert resident_base_url(second) == f"{BASE}/m/999989"


def test_a_path_naming_no_municipality_is_the_sites_404_page_in_the_visitors_language(
    base: None,
) -> None:
    """With several municipalities, a residents' path without one (an old bookmark of
    /lookup/, a typed /book/) or under a code the deployment does not have is answered as any
    404 page is: the page in the visitor's language with its way back to `/` (the list of the
    municipalities) — it was one line of plain Japanese text. The API's 404 is JSON in the
    request's `language`."""
    factories.city()
    _second()
    for path in ("/lookup/", "/book/card_pickup/", "/m/999983/", "/m/999983/lookup/"):
        japanese = Client().get(path)
        assert japanese.status_code == 404
        assert japanese["Content-Type"].startswith("text/html")
        page = japanese.content.decode()
        assert '<html lang="ja">' in page and "お探しのページが見つかりません。" in page
        assert '<a href="/">' in page
        english = Client(HTTP_ACCEPT_LANGUAGE="en").get(path)
        assert english.status_code == 404
        assert '<html lang="en">' in english.content.decode()
        assert "お探しのページ" not in english.content.decode()
    chosen = Client()
    chosen.cookies["django_language"] = "vi"
    assert '<html lang="vi">' in chosen.get("/lookup/").content.decode()
    api = Client().get("/api/v1/sites", {"language": "en"})
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    assert api.json()["message"] == "The page or data you asked for was not found."
    assert Client().get("/m/999983/api/v1/sites").json()["message"] == (
        "指定されたページまたはデータが見つかりません。"
    )


def test_an_unknown_code_and_the_staff_side_under_a_prefix_are_404() -> None:
    city = factories.city()
    assert Client().get("/m/999989/").status_code == 404
    assert Client().get(f"/m/{city.municipality.code}/staff/").status_code == 404
    assert Client().get(f"/m/{city.municipality.code}/admin/").status_code == 404


def test_a_host_of_its_own_serves_its_municipality_at_the_root(settings: Any, base: None) -> None:
    city = factories.city()
    _second()
    settings.MUNICIPALITY_HOSTS = {"yoyaku.town-b.example.jp": "999989"}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "yoyaku.town-b.example.jp"]
    page = Client(HTTP_HOST="yoyaku.town-b.example.jp").get("/").content.decode()
    assert "ベータ町役場" in page and city.site.name not in page
    second = Municipality.objects.get(code="999989")
    assert resident_base_url(second) == "https://yoyaku.town-b.example.jp"
    assert (
        resident_url(second, "resident_site:lookup", code="X")
        == "https://yoyaku.town-b.example.jp/lookup/?code=X"
    )


def test_mails_and_notices_link_to_the_municipalitys_own_site(base: None) -> None:
    city = factories.city()
    booked = factories.book_card_pickup(city)
    _second()
    visit = Visit.of(booked)
    text = mail.message(mail.CONFIRMATION, visit, "a@example.jp").body
    assert f"{BASE}/m/{city.municipality.code}/lookup/?code={booked.code}" in text
    sms = mail.sms_text(mail.CONFIRMATION, visit)
    assert f"{BASE}/m/{city.municipality.code}/lookup/?code={booked.code}" in sms
    context = notice_context(city.municipality)
    (url,) = booking_urls(["ABC123456"], context.site_url)
    assert url == f"{BASE}/m/{city.municipality.code}/book/card_pickup/?notice=ABC123456"
    assert context.languages
    for line in context.languages:
        assert f"{BASE}/m/{city.municipality.code}/lang/" in line


def test_a_link_built_while_a_prefixed_page_is_answered_is_not_prefixed_twice(
    base: None,
) -> None:
    """The confirmation is composed during the booking request under /m/<code>/."""
    from django.urls import get_script_prefix, set_script_prefix

    city = factories.city()
    _second()
    outer = get_script_prefix()
    set_script_prefix(f"/m/{city.municipality.code}/")
    try:
        url = resident_url(city.municipality, "resident_site:procedures")
    finally:
        set_script_prefix(outer)
    assert url == f"{BASE}/m/{city.municipality.code}/book/"


def test_the_staff_calling_page_links_to_the_display_and_kiosk_on_the_sites_own_residents_side(
    base: None, personas: Any
) -> None:
    """With two municipalities on the deployment, a site's waiting-room display and kiosk live
    under its municipality's /m/<code>/; the staff page (unprefixed) must link there."""
    from tests.conftest import login_staff

    for user, key in (("foreign_manager", "c"), ("manager", "a")):
        site = personas.site(key)
        client = Client()
        login_staff(client, personas.users[user])
        page = client.get(f"/staff/queue/sites/{site.pk}/").content.decode()
        code = site.municipality.code
        assert f'href="{BASE}/m/{code}/queue/sites/{site.pk}/"' in page
        assert f'href="{BASE}/m/{code}/queue/sites/{site.pk}/kiosk/"' in page
