"""The booking pages' few seconds of whole-page caching (core/pagecache.py): availability at
most MADOGUCHI_PAGE_CACHE_SECONDS old, a booked-out time never offered as free at the
confirmation, each answer with its own CSRF token and its own carried notice number."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.reservations.models import Reservation, Slot
from tests.resident_site import factories
from tests.resident_site.factories import NOTICE, VISIT_DAY, birth_fields

pytestmark = pytest.mark.django_db

TTL = 2


@pytest.fixture
def cached(settings: Any) -> None:
    settings.MADOGUCHI_PAGE_CACHE_SECONDS = TTL
    # as deployed: the request's municipality (offices.tenancy) from the reference cache
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60


def day_url(city: factories.City) -> str:
    return f"/book/card_pickup/{city.site.pk}/{VISIT_DAY.isoformat()}/"


def offers(page: bytes, slot: Slot) -> bool:
    return f"/slot/{slot.pk}/" in page.decode()


def test_a_cached_day_page_is_served_without_queries_and_is_fresh_after_the_ttl(
    city: factories.City, client: Client, frozen: Any, cached: None
) -> None:
    slot = factories.slot(city.site, city.pickup, capacity=1)
    assert offers(client.get(day_url(city)).content, slot)
    Slot.objects.filter(pk=slot.pk).update(booked=1)
    with CaptureQueriesContext(connection) as queries:
        within = client.get(day_url(city))
    assert len(queries) == 0
    assert offers(within.content, slot)  # at most TTL seconds old: still shown free
    frozen.shift(dt.timedelta(seconds=TTL))
    assert not offers(client.get(day_url(city)).content, slot)  # never older than the TTL


def test_switched_off_every_answer_reads_the_slots(city: factories.City, client: Client) -> None:
    """MADOGUCHI_PAGE_CACHE_SECONDS=0 (the suite's default) is the negative control."""
    slot = factories.slot(city.site, city.pickup, capacity=1)
    assert offers(client.get(day_url(city)).content, slot)
    Slot.objects.filter(pk=slot.pk).update(booked=1)
    assert not offers(client.get(day_url(city)).content, slot)


def test_a_time_booked_out_after_the_cached_page_is_refused_at_the_form_and_the_confirmation(
    city: factories.City, client: Client, cached: None
) -> None:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup, time="10:00", capacity=1)
    other = factories.slot(city.site, city.pickup, time="11:00", capacity=1)
    assert offers(client.get(day_url(city)).content, slot)
    Slot.objects.filter(pk=slot.pk).update(booked=1)  # somebody else took the last seat
    assert offers(client.get(day_url(city)).content, slot)  # the cached page still links it
    identify = f"/book/card_pickup/slot/{slot.pk}/"
    form = client.get(identify + f"?notice={NOTICE}")
    assert form.status_code == 409
    assert "この時間の予約枠はいっぱいです" in form.content.decode()
    assert f"/book/card_pickup/slot/{other.pk}/?notice={NOTICE}" in form.content.decode()
    confirmation = client.post(identify, {"notice_number": NOTICE, **birth_fields()})
    assert confirmation.status_code == 409
    assert 'name="token"' not in confirmation.content.decode()  # no confirmation offered
    assert not Reservation.objects.exists()


def test_each_cached_answer_has_its_own_csrf_token_and_it_is_accepted(
    city: factories.City, cached: None
) -> None:
    factories.slot(city.site, city.pickup)
    tokens = []
    for _ in range(2):
        browser = Client(enforce_csrf_checks=True)
        page = browser.get("/book/").content.decode()
        assert "pagecache" not in page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token
        tokens.append(token.group(1))
        switched = browser.post(
            "/i18n/setlang/",
            {"csrfmiddlewaretoken": token.group(1), "language": "en", "next": "/book/"},
        )
        assert switched.status_code == 302  # CSRF accepted the cached page's token
    assert tokens[0] != tokens[1]


def test_the_qr_codes_notice_number_is_carried_per_answer_from_one_cached_page(
    city: factories.City, client: Client, cached: None
) -> None:
    slot = factories.slot(city.site, city.pickup)
    month = f"/book/card_pickup/{city.site.pk}/"
    first = client.get(month + "?notice=ABC123456").content.decode()
    with CaptureQueriesContext(connection) as queries:
        second = client.get(month + "?notice=XYZ654321").content.decode()
    assert len(queries) == 0  # the second number shares the first one's page
    assert "XYZ654321" in second and "ABC123456" not in second
    assert "ABC123456" in first and "PAGECACHENOTICE" not in first + second
    day = client.get(day_url(city) + "?notice=XYZ654321").content.decode()
    assert f"/book/card_pickup/slot/{slot.pk}/?notice=XYZ654321" in day
    odd = client.get(month + "?notice=%3Cb%3E").content.decode()  # not plain: rendered itself
    assert "notice=%3Cb%3E" in odd and "<b>" not in odd and "PAGECACHENOTICE" not in odd


def test_a_visitor_with_a_session_gets_the_page_rendered_for_them(
    city: factories.City, client: Client, cached: None
) -> None:
    slot = factories.slot(city.site, city.pickup, capacity=1)
    client.get(day_url(city))
    Slot.objects.filter(pk=slot.pk).update(booked=1)
    client.cookies["sessionid"] = "anything"
    assert not offers(client.get(day_url(city)).content, slot)
