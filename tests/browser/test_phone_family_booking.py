"""A family on the phone, in Chromium against a live server: the clerk adds a family member to
the phone booking (「家族を追加する」, a plain submit), types each one's notice number and birth
date and books them in one go; the time list then offers only the times with a seat for each of
them; both are booked at the same time under one group, and every page is axe-clean (a staff
page: JavaScript on)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.core import clock
from madoguchi.reservations.models import Channel, Reservation
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import accessible, sign_in_browser
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE, VISIT_DAY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHILD_NOTICE = "XYZ654321"
CHILD_BIRTH = BIRTH.replace(year=2015)


@pytest.fixture
def desk(live_server: Any) -> Iterator[factories.City]:
    with frozen_at(factories.NOW, tick=True):
        city = factories.city()
        factories.notice_card(city.municipality)
        factories.notice_card(city.municipality, notice=CHILD_NOTICE, birth=CHILD_BIRTH)
        factories.slot(city.site, city.pickup, time="09:30", capacity=2, booked=1)
        factories.slot(city.site, city.pickup, time="10:00", capacity=3)
        user = StaffUser.objects.create_user(
            "official", password="pw-for-tests", role=Role.OFFICIAL, municipality=city.municipality
        )
        user.sites.set([city.site])
        yield city


def _birth(page: Any, prefix: str, day: Any) -> None:
    page.select_option(f"#{prefix}_year", str(day.year))
    page.select_option(f"#{prefix}_month", str(day.month))
    page.select_option(f"#{prefix}_day", str(day.day))


def test_a_clerk_books_a_family_calling_together_in_one_go(
    live_server: Any, page: Any, desk: factories.City
) -> None:
    sign_in_browser(page, live_server.url, StaffUser.objects.get(username="official"))

    page.goto(f"{live_server.url}/staff/sites/{desk.site.pk}/phone-booking/")
    page.select_option("#id_procedure", "card_pickup")
    page.fill("#id_day", VISIT_DAY.isoformat())
    page.get_by_role("button", name="空き時間を表示").click()
    slot = page.locator("#id_slot")
    assert slot.locator("option").all_inner_texts()[1:] == ["09:30（残り1）", "10:00（残り3）"]
    page.select_option("#id_slot", label="09:30（残り1）")
    page.fill("#id_notice_number", NOTICE)
    _birth(page, "id_birth_date", BIRTH)
    page.fill("#id_email", "taro@example.jp")
    page.get_by_role("button", name="家族を追加する").click()

    # the first person's entries are kept, the second person's fields added
    assert page.locator("#id_notice_number").input_value() == NOTICE
    assert page.locator("#id_email").input_value() == "taro@example.jp"
    assert page.get_by_role("group", name="2人目").is_visible()
    # one seat at 09:30 is too few for two: no longer offered, and the list says why
    assert slot.locator("option").all_inner_texts()[1:] == ["10:00（残り3）"]
    assert slot.input_value() == ""
    assert page.get_by_text("2人分の空きがある時間だけを表示しています。").is_visible()
    accessible(page)
    page.select_option("#id_slot", label="10:00（残り3）")
    page.fill("#id_member1-notice_number", CHILD_NOTICE)
    _birth(page, "id_member1-birth_date", CHILD_BIRTH)
    page.get_by_role("button", name="予約する").click()

    family = list(Reservation.objects.order_by("id"))
    assert [r.notice_number for r in family] == [NOTICE, CHILD_NOTICE]
    assert {(r.group_code, r.channel, r.slot_id) for r in family} == {
        (family[0].code, Channel.PHONE, family[0].slot_id)
    }
    assert f"{clock.to_jst(family[0].slot.starts_at):%H:%M}" == "10:00"
    assert page.get_by_text(
        f"2人分を予約しました。予約コード {family[0].code}、{family[1].code} をお伝えください"
    ).is_visible()
    accessible(page)
