"""Issue 17.3 in a phone-sized Chromium (390×844), JavaScript on and off, axe-core clean on every
page: an empty birth date is asked for in Japanese; the month marks the lead time and names the
first day to book; a day's times come by hour from the opening time; a family books one visit
with the add-a-person button (one person named twice is refused before the
confirmation); a post office says up front that it serves the holder only; a
cancelled booking's reschedule page explains instead of showing a calendar.

One walk per JavaScript setting in one phone-sized context, in parts (`part`: a failure names
its part); the browser's cookies are emptied between parts, so each starts as a new visitor,
and each part changes only what the later parts do not read."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.offices.models import SiteKind
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.reservations.slots import regenerate_site_slots
from tests import live_worlds
from tests.browser.booking_pages import book_through_pages, send_booking
from tests.conftest import accessible
from tests.frozen_clock import frozen_at
from tests.offices import factories as offices
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHILD_NOTICE = "XYZ654321"
CHILD_BIRTH = dt.date(2015, 3, 3)


@pytest.fixture
def city(live_server: Any) -> Iterator[factories.City]:
    with frozen_at(factories.NOW, tick=True):
        yield live_worlds.committed((__name__, "city"), _build_city)


def _build_city() -> factories.City:
    built = factories.city()
    post = offices.site(built.municipality, kind=SiteKind.POST_OFFICE, name="みどり中央郵便局")
    post.procedures.set([built.renewal])
    for site in (built.site, post):
        regenerate_site_slots(
            site=site,
            first=dt.date(2026, 6, 1),
            last=dt.date(2026, 6, 30),
            actor=Actor.system("test"),
        )
    # Seats for a family of two in one slot (two counters give one pick-up seat a slot).
    Slot.objects.filter(site=built.site).update(capacity=3)
    factories.notice_card(built.municipality)
    factories.notice_card(built.municipality, notice=CHILD_NOTICE, birth=CHILD_BIRTH)
    return built


def phone(chromium: Any, javascript: bool) -> Any:
    return chromium.new_context(
        java_script_enabled=javascript, locale="ja-JP", viewport={"width": 390, "height": 844}
    )


def choose_birth_date(page: Any, day: dt.date, prefix: str = "id_birth_date") -> None:
    page.select_option(f"#{prefix}_year", str(day.year))
    page.select_option(f"#{prefix}_month", str(day.month))
    page.select_option(f"#{prefix}_day", str(day.day))


@contextlib.contextmanager
def part(name: str, context: Any) -> Iterator[None]:
    """One part of the walk, starting from a browser without cookies: a failure inside it says
    which part failed."""
    context.clear_cookies()
    try:
        yield
    except Exception as failure:
        failure.add_note(f"in the part: {name}")
        raise


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_phone_books_without_traps(
    live_server: Any, chromium: Any, city: factories.City, javascript: bool
) -> None:
    context = phone(chromium, javascript)
    try:
        page = context.new_page()
        with part("a cancelled booking explains instead of showing a calendar", context):
            slot = (
                city.site.slots.filter(
                    procedure=city.pickup,
                    starts_at__gte=clock.at(factories.VISIT_DAY, dt.time(0)),
                )
                .order_by("starts_at")
                .first()
            )
            assert slot is not None
            cancelled = services.book_reservation(
                slot_id=slot.pk,
                procedure_code="card_pickup",
                applicant=services.Applicant(birth_date=BIRTH, notice_number=NOTICE),
                actor=Actor.resident(),
            )
            services.cancel_reservation(code=cancelled.code, actor=Actor.resident())
            page.goto(f"{live_server.url}/lookup/")
            page.fill("#id_code", cancelled.code)
            choose_birth_date(page, BIRTH)
            page.get_by_role("button", name="予約を表示する").click()
            assert page.get_by_role("heading", name="この予約は取り消されています").is_visible()
            response = page.goto(f"{live_server.url}/reservation/{cancelled.code}/reschedule/")
            assert response.status == 409
            accessible(page)
            alert = page.get_by_role("alert").inner_text()
            assert "この予約は取り消されているため、日時を変更できません。" in alert
            assert page.locator("table.month").count() == 0
            assert "cancelled" not in page.content()
            assert clock.now() < slot.starts_at

        with part("a family books card pick-ups without traps", context):
            page.goto(f"{live_server.url}/book/card_pickup/{city.site.pk}/")
            accessible(page)
            assert "直前のためネット予約は終了" in page.locator("table.month").inner_text()
            assert (
                page.locator(".first-free").inner_text() == "いちばん早く予約できる日：6月4日（木）"
            )

            page.locator("table.month a").first.click()
            accessible(page)
            assert page.locator("section.hour h2").first.inner_text() == "8時台"
            assert page.locator("a.time-choice .time").first.inner_text() == "08:30"  # opening
            height = page.evaluate("() => document.documentElement.scrollHeight")
            assert height < 2600, f"a day's times fit a few screens on a phone ({height}px)"
            page.locator("a.time-choice").first.click()
            accessible(page)

            # Nothing chosen: the birth date is asked for, not taken as this year's 1 January.
            assert page.input_value("#id_birth_date_year") == ""
            page.fill("#id_notice_number", NOTICE)
            page.get_by_role("button", name="確認画面へ進む").click()
            assert (
                "生年月日の年・月・日をすべて選んでください。"
                in page.get_by_role("alert").inner_text()
            )
            accessible(page)
            assert (
                page.locator("#id_birth_date_year option", has_text="1980年（昭和55年）").count()
                == 1
            )

            choose_birth_date(page, BIRTH)
            page.get_by_role("button", name="家族を追加する").click()
            accessible(page)
            assert page.input_value("#id_notice_number") == NOTICE, "what was typed is kept"
            # The first person again, as the second: refused at the second, before the
            # confirmation.
            page.fill("#id_member1-notice_number", NOTICE.lower())
            choose_birth_date(page, BIRTH, prefix="id_member1-birth_date")
            page.get_by_role("button", name="確認画面へ進む").click()
            alert = page.get_by_role("alert").inner_text()
            assert "2人目" in alert and "同じ方が2回入力されています。" in alert
            accessible(page)
            page.fill("#id_member1-notice_number", CHILD_NOTICE)
            choose_birth_date(page, CHILD_BIRTH, prefix="id_member1-birth_date")
            page.get_by_role("button", name="確認画面へ進む").click()
            accessible(page)
            assert page.get_by_role("heading", name="2人目").is_visible()
            page.get_by_role("button", name="この内容で予約する").click()
            accessible(page)

            family = list(Reservation.objects.exclude(pk=cancelled.pk).order_by("id"))
            assert [r.notice_number for r in family] == [NOTICE, CHILD_NOTICE]
            assert len({r.group_code for r in family}) == 1
            assert page.locator(".summary .code").inner_text() == family[0].code
            assert page.get_by_role("link", name=f"予約コード {family[1].code}").is_visible()

        with part("a post office serves the holder only and a family member is removed", context):
            page.goto(f"{live_server.url}/book/cert_renewal/")
            accessible(page)
            assert page.get_by_text(
                "ご本人の手続きだけをお受けしています（代理人は不可）。"
            ).is_visible()
            book_through_pages(page, "みどり中央郵便局")
            accessible(page)
            assert page.get_by_text(
                "郵便局の窓口では、ご本人の手続きだけをお受けしています。"
            ).is_visible()
            assert page.locator("input[name=is_proxy]").count() == 0

            page.fill("#id_family_name_kana", "やまだ")
            page.fill("#id_given_name_kana", "たろう")
            choose_birth_date(page, BIRTH)
            page.fill("#id_email", "taro@example.jp")
            page.get_by_role("button", name="家族を追加する").click()
            assert page.locator("#id_member1-family_name_kana").is_visible()
            page.get_by_role("button", name="最後に追加した方を削除する").click()
            accessible(page)
            assert page.locator("#id_member1-family_name_kana").count() == 0
            send_booking(page)
            booked = Reservation.objects.get(procedure=city.renewal)
            assert (booked.slot.site.kind, booked.is_proxy) == (SiteKind.POST_OFFICE, False)

        with part("a family of three is offered only times that seat all three", context):
            day_slots = city.site.slots.filter(
                procedure=city.renewal, starts_at__gte=clock.at(factories.VISIT_DAY, dt.time(0))
            ).filter(starts_at__lt=clock.at(factories.VISIT_DAY, dt.time(23)))
            first, second, *_rest = day_slots.order_by("starts_at")
            Slot.objects.filter(pk=first.pk).update(booked=2)  # one seat left: not for three
            page.goto(f"{live_server.url}/book/cert_renewal/{city.site.pk}/{factories.VISIT_DAY}/")
            accessible(page)
            first_time = clock.to_jst(first.starts_at).strftime("%H:%M")
            assert page.locator("a.time-choice .time").first.inner_text() == first_time

            page.select_option("#id_people", "3")
            page.get_by_role("button", name="この人数で空きを表示する").click()
            accessible(page)
            assert page.input_value("#id_people") == "3"
            assert page.get_by_text("3人分の空きがある時間だけ選べます。").is_visible()
            too_small = page.locator(".time-choice.disabled", has_text=first_time)
            assert "人数分の空きなし" in too_small.inner_text()
            offered = page.locator("a.time-choice .time").first.inner_text()
            assert offered == clock.to_jst(second.starts_at).strftime("%H:%M")

            # Back to the month: it keeps the number and offers days with a time for all three.
            day_url = page.url
            page.get_by_role("link", name="日付を選び直す").click()
            accessible(page)
            assert "people=3" in page.url
            page.locator("table.month a").first.click()
            assert page.input_value("#id_people") == "3"
            page.goto(day_url)

            page.locator("a.time-choice").first.click()
            accessible(page)
            assert page.locator("#id_member1-family_name_kana").is_visible()
            assert page.locator("#id_member2-family_name_kana").is_visible()
            assert page.locator("#id_member3-family_name_kana").count() == 0

        with part("the home page fits a few screens on a phone and unfolds a site's days", context):
            # Four sites in English at 390 px: each site's week in a line, its two weeks of
            # dated hours folded (open, the dated table of that site shows).
            for kind, name in (
                (SiteKind.BRANCH_OFFICE, "みどり北支所"),
                (SiteKind.TEMPORARY, "駅前臨時窓口"),
            ):
                offices.site(city.municipality, kind=kind, name=name).procedures.set([city.renewal])
            context.add_cookies(
                [{"name": "django_language", "value": "en", "url": live_server.url}]
            )
            page.goto(f"{live_server.url}/")
            accessible(page)
            assert page.locator("section.site").count() == 4
            height = page.evaluate("() => document.documentElement.scrollHeight")
            assert height < 2600, f"the home page fits a few screens on a phone ({height}px)"
            first_site = page.locator("section.site").first
            assert not first_site.locator("table").is_visible()
            first_site.get_by_text("Hours by date (two weeks)").click()
            assert first_site.locator("table tbody tr").count() == 14
            assert first_site.locator("table").is_visible()
            accessible(page)
    finally:
        context.close()
