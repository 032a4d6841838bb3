"""The home page on a phone: each site's regular week in a line, its closures and special
openings under it, and the day-by-day hours of the coming two weeks folded — the page was
two weeks of dated tables per site (~10,000 px tall at 390 px in English on the demo)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from madoguchi.offices.models import Closure, OpeningSession, SessionKind, SpecialOpening
from tests.frozen_clock import frozen_at
from tests.resident_site import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def at_now() -> Iterator[None]:
    cache.clear()
    with frozen_at(factories.NOW):  # Monday 1 June 2026
        yield


def _home(language: str = "ja") -> str:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return re.sub(r"\s+", " ", client.get("/").content.decode())


@pytest.fixture
def city() -> factories.City:
    city = factories.city(saturday_hours=True)
    OpeningSession.objects.create(
        site=city.site,
        weekday=3,
        kind=SessionKind.EVENING,
        starts_at_time=dt.time(17, 15),
        ends_at_time=dt.time(19),
        counters_open=1,
    )
    Closure.objects.create(
        municipality=city.municipality,
        site=city.site,
        first_day=dt.date(2026, 6, 9),
        last_day=dt.date(2026, 6, 9),
        reason="庁舎点検",
    )
    SpecialOpening.objects.create(
        site=city.site, day=dt.date(2026, 6, 7), starts_at_time=dt.time(9), ends_at_time=dt.time(12)
    )
    return city


def test_each_site_gives_its_week_in_a_line_and_its_exceptions_under_it(
    city: factories.City,
) -> None:
    html = _home()
    week = re.search(r'<p class="week">([^<]*)</p>', html)
    assert week is not None
    assert week.group(1) == (
        "月・火・水・金 8:30〜17:15 ／ 木 8:30〜17:15、17:15〜19:00 ／ 土 9:00〜12:00"
    )
    notes = re.findall(r'<p class="week-note">([^<]*)</p>', html)
    assert notes == ["休み：日曜日、6月9日（火）（庁舎点検）", "臨時開庁：6月7日（日） 9:00〜12:00"]


def test_the_day_by_day_hours_are_folded_not_gone(city: factories.City) -> None:
    html = _home()
    folded = html[html.index('<details class="day-hours">') : html.index("</details>")]
    assert "<summary>日付ごとの受付時間（2週間）</summary>" in folded
    assert folded.count('<th scope="row">') == 14  # two weeks, a row a day
    assert "6月9日（火）" in folded and "庁舎点検" in folded
    assert "<table" not in html.replace(folded, "")  # no table outside the fold


def test_the_week_line_is_in_the_pages_language(city: factories.City) -> None:
    html = _home("en")
    week = re.search(r'<p class="week">([^<]*)</p>', html)
    assert week is not None and "Mon" in week.group(1) and "月" not in week.group(1)
    assert "Hours by date (two weeks)" in html
