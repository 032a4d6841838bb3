"""The day view per visit: the holder's name from the card record, the queue number and state;
searchable by name, kana, booking code or notice number, typed any way a counter types them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.individual_number import individual_number_check_digit
from madoguchi.issuance.models import CardRecord
from madoguchi.reservations.models import Reservation
from madoguchi.staff.models import Role, StaffUser
from madoguchi.staff_console.counter.selectors import day_view
from madoguchi.walkins.services import check_in_booked_visitor
from tests.conftest import login_staff
from tests.resident_site import factories
from tests.resident_site.factories import VISIT_DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(city: factories.City, frozen: Any) -> dict[str, Reservation]:
    """Two card pick-ups (山田 花子, 佐藤 一郎) and a renewal booked as スズキ ジロウ."""
    first = factories.book_card_pickup(city, "10:00", n=0)
    second = factories.book_card_pickup(city, "10:20", n=1)
    CardRecord.objects.filter(reservation_code=second.code).update(
        family_name="佐藤", given_name="一郎", family_name_kana="サトウ", given_name_kana="イチロウ"
    )
    renewal = factories.book_cert_renewal(city, "11:00")
    frozen.move_to(clock.at(VISIT_DAY, dt.time(9, 50)))
    return {"yamada": first, "sato": second, "suzuki": renewal}


def found(city: factories.City, query: str) -> list[str]:
    view = day_view(site_id=city.site.pk, day=VISIT_DAY, query=query)
    return [v.reservation.code for v in view.visits]


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("山田", "yamada"),
        ("山田 花子", "yamada"),
        ("佐藤　一郎", "sato"),
        ("ヤマダ", "yamada"),
        ("やまだ はなこ", "yamada"),
        ("ｻﾄｳ", "sato"),
        ("すずき", "suzuki"),
        ("abc-123457", "sato"),
        ("ＡＢＣ１２３４５６", "yamada"),
    ],
)
def test_the_day_is_searched_by_name_kana_and_notice_number(
    city: factories.City, day: dict[str, Reservation], query: str, who: str
) -> None:
    assert found(city, query) == [day[who].code]


def test_a_booking_code_is_found_in_any_case_and_with_hyphens(
    city: factories.City, day: dict[str, Reservation]
) -> None:
    code = day["suzuki"].code
    assert found(city, f"{code[:4].lower()}-{code[4:]}") == [code]


def test_a_query_that_matches_nobody_finds_nothing_but_the_counts_stay(
    city: factories.City, day: dict[str, Reservation]
) -> None:
    view = day_view(site_id=city.site.pk, day=VISIT_DAY, query="田中")
    assert view.visits == []
    assert view.total == 3


def test_the_day_view_shows_name_procedure_time_queue_number_and_state(
    city: factories.City, day: dict[str, Reservation]
) -> None:
    official = StaffUser.objects.create_user(
        "desk", password="x", role=Role.OFFICIAL, municipality=city.municipality
    )
    official.sites.set([city.site])
    client = Client()
    login_staff(client, official)
    ticket = check_in_booked_visitor(code=day["sato"].code, actor=Actor.system("t"))

    page = client.get(f"/staff/sites/{city.site.pk}/?day={VISIT_DAY}&q=さとう").content.decode()

    assert "佐藤　一郎" in page and "サトウ　イチロウ" in page
    assert "山田" not in page
    assert "10:20" in page and "マイナンバーカードの受け取り" in page
    assert f"<strong>{ticket.label}</strong>（お待ちください" in page
    assert "受付済み" in page
    assert "「さとう」：1件" in page


def test_an_individual_number_in_the_search_is_refused_not_searched(
    city: factories.City, day: dict[str, Reservation]
) -> None:
    official = StaffUser.objects.create_user(
        "desk", password="x", role=Role.OFFICIAL, municipality=city.municipality
    )
    official.sites.set([city.site])
    client = Client()
    login_staff(client, official)
    number = "12345678901" + str(individual_number_check_digit("12345678901"))
    response = client.get(f"/staff/sites/{city.site.pk}/?day={VISIT_DAY}&q={number}", follow=True)
    page = response.content
    assert "個人番号（マイナンバー）と思われる12桁の番号が含まれています。" in page.decode()
    assert number.encode() not in page
