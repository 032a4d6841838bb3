"""The "when and how to renew" page: built from the sites, procedures and real hand-overs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from madoguchi.core import clock
from madoguchi.forecasts.models import PlanningPolicy
from madoguchi.issuance.models import CardStatus
from madoguchi.offices.models import OpeningSession, SessionKind, SiteKind, SpecialOpening
from tests.frozen_clock import frozen_at
from tests.issuance.factories import card
from tests.offices import factories as offices
from tests.resident_site import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def at_now() -> Iterator[None]:
    cache.clear()
    with frozen_at(factories.NOW):
        yield
    cache.clear()


def page(query: str = "") -> tuple[int, str]:
    response = Client().get(f"/renew/{query}")
    return response.status_code, response.content.decode()


def test_the_page_lists_each_site_with_this_months_hours_and_what_to_bring() -> None:
    city = factories.city(saturday_hours=True)
    SpecialOpening.objects.create(
        site=city.site,
        day=dt.date(2026, 6, 14),
        starts_at_time=dt.time(9),
        ends_at_time=dt.time(12),
    )
    temporary = offices.site(city.municipality, name="駅前臨時窓口", kind=SiteKind.TEMPORARY)
    temporary.procedures.set([city.renewal])
    status, html = page()
    assert status == 200
    assert "みどり本庁舎" in html and "土日も開庁" in html
    assert "臨時開庁：" in html and "6月14日" in html
    assert "駅前臨時窓口" in html and "臨時窓口" in html
    assert factories.PICKUP_DOCUMENTS in html  # what to bring, from the procedure
    assert "照会書、代理人の本人確認書類" in html  # the proxy documents of cert renewal
    assert "75歳以上" in html  # the accepted proxy reasons
    assert "特急発行の対象外" in html


def test_the_usual_time_comes_from_real_hand_overs_and_falls_back_to_one_to_two_months() -> None:
    city = factories.city()
    assert "約1〜2か月" in page()[1]
    cache.clear()
    handed = clock.now() - dt.timedelta(days=3)
    for applied_days_ago in (45, 52, 59):
        card(
            city.municipality,
            status=CardStatus.HANDED_OVER,
            handed_over_at=handed,
            is_proxy=False,
            applied_on=(handed - dt.timedelta(days=applied_days_ago)).date(),
        )
    html = page()[1]
    assert "約7週間（中央値 52日）" in html and "約1〜2か月" not in html


def test_an_expiry_date_gives_the_first_day_to_renew() -> None:
    factories.city()
    status, html = page("?expires=2026-09-30")
    assert status == 200
    # The day after "expiry minus 3 months" (30 June).
    assert "2026年7月1日（水）から更新の手続きができます" in html
    status, html = page("?expires=２０２６－０５－１０")  # full-width, as phones type it
    assert status == 200 and "有効期限はすでに過ぎています" in html


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "1999-01-01"])
def test_a_bad_expiry_date_gets_a_clear_message(bad: Any) -> None:
    factories.city()
    status, html = page(f"?expires={bad}")
    assert status == 400
    assert 'role="alert"' in html and "有効期限" in html
    assert "から更新の手続きができます" not in html


def test_a_date_that_does_not_exist_is_called_so_not_a_wrong_format() -> None:
    """29 February of a common year is typed in the right format: the page says the day does
    not exist instead of asking for 年-月-日 again."""
    factories.city()
    status, html = page("?expires=2027-02-29")
    assert status == 400
    assert "2027年2月29日という日付はありません" in html
    assert "年-月-日で入力してください" not in html
    status, html = page("?expires=2028-02-29")  # a leap year's
    assert status == 200 and "から更新の手続きができます" in html


@pytest.mark.parametrize(
    "typed",
    [
        "2026/9/30",
        "2026.09.30",
        "２０２６／０９／３０",
        "2026年9月30日",
        "２０２６年　９月３０日",
        "2026年 9月30日まで有効",
    ],
)
def test_an_expiry_date_typed_with_slashes_or_dots_is_read(typed: str) -> None:
    """Without a date picker (an old browser shows a text box), people type 2026/9/30 — or the
    date as the card prints it, 「2026年 9月30日まで有効」, which was refused as not 年-月-日."""
    factories.city()
    status, html = page(f"?expires={typed}")
    assert status == 200
    assert "2026年7月1日（水）から更新の手続きができます" in html


def test_the_home_page_links_the_renewal_page() -> None:
    factories.city()
    assert 'href="/renew/"' in Client().get("/").content.decode()


MAILED = "できあがったカードは本人限定受取郵便で届きます"


def _application_site(city: factories.City) -> None:
    """A site that takes card applications at the counter, open two evenings a week."""
    application = offices.procedure("card_application")
    helped = offices.site(city.municipality, name="北支所", kind=SiteKind.BRANCH_OFFICE)
    helped.procedures.set([application])
    for weekday in (1, 3):
        OpeningSession.objects.create(
            site=helped,
            weekday=weekday,
            kind=SessionKind.EVENING,
            starts_at_time=dt.time(17, 15),
            ends_at_time=dt.time(19),
            counters_open=1,
        )


def test_the_page_says_when_notices_come_how_to_apply_and_where_to_book_or_queue() -> None:
    city = factories.city()
    _application_site(city)
    status, html = page()
    assert status == 200
    # the J-LIS expiry notice ahead of the expiry, and when renewal can start
    assert "有効期限通知書" in html and "有効期限の3か月前の日の翌日から" in html
    # online application with the QR form; the counters' application support, 申請時来庁
    assert "申請書のQRコードから、スマートフォンやパソコンで申請できます" in html
    support = html[html.index("申請のお手伝い") :]
    assert "北支所" in support[: support.index("</ul>")]
    assert MAILED in html and "申請時来庁" in html
    # evening sessions marked, as weekend ones are
    assert "夜間も開庁" in html and "（夜間）" in html
    # links to booking, to the queue and congestion
    assert 'href="/book/"' in html and 'href="/queue/"' in html


def test_without_mailed_cards_in_the_policy_the_page_does_not_offer_them() -> None:
    city = factories.city()
    _application_site(city)
    PlanningPolicy.objects.create(municipality=city.municipality, apply_in_person_percent=0)
    html = page()[1]
    assert "北支所" in html and MAILED not in html


def test_without_a_site_taking_applications_no_support_or_mailing_is_promised() -> None:
    factories.city()
    html = page()[1]
    assert "申請のお手伝い" not in html and MAILED not in html
