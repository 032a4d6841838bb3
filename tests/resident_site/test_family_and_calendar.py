"""Family booking on the residents' pages (as the API's `family_members`), without JavaScript;
the month marks open days inside the booking lead time and names the first day to book; a day's
times come grouped by hour."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from madoguchi.offices.models import SiteKind
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.reservations.services import MAX_GROUP_SIZE
from tests.offices import factories as offices
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE, VISIT_DAY, birth_fields

pytestmark = pytest.mark.django_db

CHILD_BIRTH = dt.date(2015, 3, 3)


def _token(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found, "the confirmation page carries a one-time token"
    return found.group(1)


def renewal_family(members: int = 1) -> dict[str, str]:
    data = {
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "email": "taro@example.jp",
        "members": str(members),
        **birth_fields(),
    }
    names = ["ハナコ", "ジロウ", "サブロウ", "シロウ", "ゴロウ"]
    for index in range(members):
        prefix = f"member{index + 1}"
        data.update(
            {
                f"{prefix}-family_name_kana": "ヤマダ",
                f"{prefix}-given_name_kana": names[index],
                **birth_fields(
                    CHILD_BIRTH + dt.timedelta(days=index), prefix=f"{prefix}-birth_date"
                ),
            }
        )
    return data


def test_add_member_button_adds_a_second_person_without_javascript(
    city: factories.City, client: Client
) -> None:
    slot = factories.slot(city.site, city.renewal)
    url = f"/book/cert_renewal/slot/{slot.pk}/"
    first = renewal_family(0)
    page = client.post(url, {**first, "step": "add_member"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="member1-family_name_kana"' in html and 'name="members" value="1"' in html
    assert 'value="タロウ"' in html, "what was typed is kept"
    assert "エラー" not in html.split("<main", 1)[-1].split("</h1>", 1)[0]

    removed = client.post(url, {**renewal_family(1), "step": "remove_member"}).content.decode()
    assert 'name="member1-family_name_kana"' not in removed
    assert 'name="members" value="0"' in removed


def test_a_family_books_one_visit_together(city: factories.City, client: Client) -> None:
    slot = factories.slot(city.site, city.renewal, capacity=3)
    url = f"/book/cert_renewal/slot/{slot.pk}/"
    data = renewal_family(2)

    confirm = client.post(url, data)

    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "ヤマダ ハナコ" in html and "ヤマダ ジロウ" in html and "3人目" in html
    assert not Reservation.objects.exists(), "the confirmation page books nothing"

    done = client.post(url, {**data, "step": "confirm", "token": _token(html)})

    family = list(Reservation.objects.order_by("id"))
    assert len(family) == 3
    assert len({r.group_code for r in family}) == 1
    assert {r.slot_id for r in family} == {slot.pk}
    assert [r.given_name_kana for r in family] == ["タロウ", "ハナコ", "ジロウ"]
    assert all(r.email == "taro@example.jp" for r in family), "the first person's contact"
    slot.refresh_from_db()
    assert slot.booked == 3
    assert done["Location"] == f"/reservation/{family[0].code}/"
    page = client.get(done["Location"]).content.decode()
    assert "いっしょに予約した方" in page
    assert family[1].code in page and family[2].code in page


def test_card_pickups_for_two_notices_in_one_visit(city: factories.City, client: Client) -> None:
    factories.notice_card(city.municipality)
    factories.notice_card(city.municipality, notice="XYZ654321", birth=CHILD_BIRTH)
    slot = factories.slot(city.site, city.pickup)
    url = f"/book/card_pickup/slot/{slot.pk}/"
    data = {
        "notice_number": NOTICE,
        **birth_fields(BIRTH),
        "members": "1",
        "member1-notice_number": "xyz-654321",
        **birth_fields(CHILD_BIRTH, prefix="member1-birth_date"),
    }
    confirm = client.post(url, data).content.decode()
    client.post(url, {**data, "step": "confirm", "token": _token(confirm)})
    assert sorted(Reservation.objects.values_list("notice_number", flat=True)) == [
        NOTICE,
        "XYZ654321",
    ]


def test_a_family_member_mistake_is_shown_and_nothing_is_booked(
    city: factories.City, client: Client
) -> None:
    slot = factories.slot(city.site, city.renewal)
    data = renewal_family(1)
    data["member1-given_name_kana"] = "hanako"
    response = client.post(f"/book/cert_renewal/slot/{slot.pk}/", data)
    html = response.content.decode()
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert (
        summary
        and "2人目" in summary.group(0)
        and "#id_member1-given_name_kana" in summary.group(0)
    )
    assert not Reservation.objects.exists()


def test_one_person_named_twice_is_refused_before_the_confirmation_page(
    city: factories.City, client: Client
) -> None:
    """The same notice number twice (spelled another way) — or the same kana name and birth
    date — is refused on the form, at the person who repeats someone: the confirmation page
    used to show the impossible booking, and only 「この内容で予約する」 was refused."""
    factories.notice_card(city.municipality)
    pickup = factories.slot(city.site, city.pickup, capacity=3)
    data = {
        "notice_number": NOTICE,
        **birth_fields(BIRTH),
        "members": "2",
        "member1-notice_number": "XYZ654321",
        **birth_fields(CHILD_BIRTH, prefix="member1-birth_date"),
        "member2-notice_number": f"{NOTICE[:3].lower()}-{NOTICE[3:]}",
        **birth_fields(BIRTH, prefix="member2-birth_date"),
    }
    response = client.post(f"/book/card_pickup/slot/{pickup.pk}/", data)
    html = response.content.decode()
    assert response.status_code == 422
    assert 'name="token"' not in html, "no confirmation page"
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert summary and "同じ方が2回入力されています。" in summary.group(0)
    assert 'href="#id_member2-notice_number">3人目' in summary.group(0)
    assert "#id_member1-notice_number" not in summary.group(0)

    renewal = factories.slot(city.site, city.renewal, capacity=3)
    twice = renewal_family(2)
    twice["member2-given_name_kana"] = "ハナコ"  # the first member again …
    twice.update(birth_fields(CHILD_BIRTH, prefix="member2-birth_date"))  # … born the same day
    response = client.post(f"/book/cert_renewal/slot/{renewal.pk}/", twice)
    html = response.content.decode()
    assert response.status_code == 422 and 'name="token"' not in html
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert summary and "3人目：同じ方が2回入力されています。" in summary.group(0)
    born_apart = {
        **twice,
        **birth_fields(CHILD_BIRTH + dt.timedelta(days=9), prefix="member2-birth_date"),
    }
    assert client.post(f"/book/cert_renewal/slot/{renewal.pk}/", born_apart).status_code == 200
    assert not Reservation.objects.exists()


def test_the_month_offers_a_family_only_days_with_a_time_seating_them_all(
    city: factories.City, client: Client
) -> None:
    """Back from a day (「日付を選び直す」 carries the number), the month marks a day whose free
    seats are spread over times too small for the family 「人数分の空きなし」, without a link,
    names as the first day one with a time for all of them, and carries the number on — it
    showed ○ for every day with any seat, and a family of two found no time on any of them."""
    spread = VISIT_DAY
    roomy = VISIT_DAY + dt.timedelta(days=1)
    for time in ("09:00", "09:20", "09:40"):
        factories.slot(city.site, city.renewal, day=spread, time=time, capacity=3, booked=2)
    factories.slot(city.site, city.renewal, day=roomy, time="10:00", capacity=3, booked=1)
    url = f"/book/cert_renewal/{city.site.pk}/"

    alone = client.get(url, {"month": f"{spread:%Y-%m}"}).content.decode()
    assert f'href="{url}{spread}/"' in alone and "人数分の空きなし" not in alone

    family = client.get(url, {"month": f"{spread:%Y-%m}", "people": "2"}).content.decode()
    assert f'href="{url}{spread}/' not in family
    cell = re.search(rf"{spread.month}月{spread.day}日[^<]*人数分の空きなし", family)
    assert cell, "the day is named too small for the family"
    assert f'href="{url}{roomy}/?people=2"' in family
    assert f"{roomy.month}月{roomy.day}日" in family.split('class="first-free"', 1)[1][:200]

    day = client.get(f"{url}{spread}/", {"people": "2"}).content.decode()
    back = re.search(r'class="breadcrumb"><a href="([^"]+)"', day)
    assert back and "people=2" in back.group(1)


def test_a_family_too_big_for_the_slot_books_nobody(city: factories.City, client: Client) -> None:
    slot = factories.slot(city.site, city.renewal, capacity=2)
    factories.slot(city.site, city.renewal, time="11:00", capacity=3)
    url = f"/book/cert_renewal/slot/{slot.pk}/"
    data = renewal_family(2)
    confirm = client.post(url, data).content.decode()
    response = client.post(url, {**data, "step": "confirm", "token": _token(confirm)})
    assert response.status_code == 409
    assert not Reservation.objects.exists()
    assert Slot.objects.get(pk=slot.pk).booked == 0


def test_no_more_than_the_group_limit_can_be_added(city: factories.City, client: Client) -> None:
    slot = factories.slot(city.site, city.renewal)
    most = renewal_family(MAX_GROUP_SIZE - 1)
    html = client.post(
        f"/book/cert_renewal/slot/{slot.pk}/", {**most, "step": "add_member"}
    ).content.decode()
    assert f'name="members" value="{MAX_GROUP_SIZE - 1}"' in html
    assert 'value="add_member"' not in html
    forged = client.post(f"/book/cert_renewal/slot/{slot.pk}/", {**most, "members": "99"})
    assert forged.status_code == 200  # counted as the limit, not as 99 forms


def test_a_family_member_cannot_be_a_proxy_at_a_post_office(
    city: factories.City, client: Client
) -> None:
    post = offices.site(city.municipality, kind=SiteKind.POST_OFFICE, name="みどり中央郵便局")
    post.procedures.set([city.renewal])
    slot = factories.slot(post, city.renewal)
    response = client.post(
        f"/book/cert_renewal/slot/{slot.pk}/", {**renewal_family(1), "member1-is_proxy": "on"}
    )
    assert response.status_code == 422
    assert "ご本人の手続きだけをお受けしています" in response.content.decode()
    assert not Reservation.objects.exists()


# --- the month: lead time and the first day to book ------------------------------------------


def test_open_days_inside_the_lead_time_are_marked_and_the_first_day_named(
    city: factories.City, client: Client
) -> None:
    soon = dt.date(2026, 6, 2)  # tomorrow: the site is open, online booking is not
    factories.slot(city.site, city.pickup, day=soon)
    full = dt.date(2026, 6, 4)  # the window's first day, full
    factories.slot(city.site, city.pickup, day=full, capacity=1, booked=1)
    factories.slot(city.site, city.pickup, day=VISIT_DAY)

    page = client.get(f"/book/card_pickup/{city.site.pk}/").content.decode()

    assert "6月2日（火） 直前のためネット予約は終了" in page
    assert "6月3日（水） 受付なし" in page, "a day without hours stays closed"
    assert "インターネットの予約は3日後の分からです。" in page
    assert "いちばん早く予約できる日：6月10日（水）" in page
    assert "/2026-06-02/" not in page, "a lead-time day is not a link"


def test_no_free_day_says_so(city: factories.City, client: Client) -> None:
    factories.slot(city.site, city.pickup, capacity=1, booked=1)
    page = client.get(f"/book/card_pickup/{city.site.pk}/").content.decode()
    assert "いま予約できる日はありません。" in page


# --- the day: times by hour ----------------------------------------------------------------


def test_a_days_times_are_grouped_by_hour_from_the_first_time(
    city: factories.City, client: Client
) -> None:
    for time in ("09:00", "09:20", "09:40", "10:00", "13:20"):
        factories.slot(city.site, city.pickup, time=time)
    page = client.get(f"/book/card_pickup/{city.site.pk}/{VISIT_DAY}/").content.decode()
    hours = re.findall(r'<h2 id="hour-(\d+)">(\d+)時台</h2>', page)
    assert hours == [("9", "9"), ("10", "10"), ("13", "13")]
    nine = page.split('id="hour-9"', 1)[1].split('id="hour-10"', 1)[0]
    assert re.findall(r'class="time">(\d\d:\d\d)<', nine) == ["09:00", "09:20", "09:40"]


# --- the day: as many free seats as the family coming ----------------------------------------


def _linked_times(page: str) -> list[str]:
    return re.findall(r'<a class="time-choice" href="[^"]*"><span class="time">(\d\d:\d\d)<', page)


@pytest.mark.parametrize(
    ("people", "offered", "too_few"),
    [
        ("1", ["09:00", "09:20", "09:40"], []),
        ("2", ["09:20", "09:40"], ["09:00"]),
        ("3", ["09:40"], ["09:00", "09:20"]),
        ("4", [], ["09:00", "09:20", "09:40"]),
        # anything that is not 1 … MAX_GROUP_SIZE counts as one person
        ("0", ["09:00", "09:20", "09:40"], []),
        (str(MAX_GROUP_SIZE + 1), ["09:00", "09:20", "09:40"], []),
        ("two", ["09:00", "09:20", "09:40"], []),
    ],
)
def test_the_day_offers_only_times_with_a_seat_for_everyone_coming(
    city: factories.City, client: Client, people: str, offered: list[str], too_few: list[str]
) -> None:
    for time, free in (("09:00", 1), ("09:20", 2), ("09:40", 3)):
        factories.slot(city.site, city.renewal, time=time, capacity=3, booked=3 - free)
    factories.slot(city.site, city.renewal, time="10:00", capacity=3, booked=3)  # full

    page = client.get(
        f"/book/cert_renewal/{city.site.pk}/{VISIT_DAY}/", {"people": people}
    ).content.decode()

    assert _linked_times(page) == offered
    marked = re.findall(r'class="time">(\d\d:\d\d)<(?:(?!</li>).)*人数分の空きなし', page, re.S)
    assert marked == too_few, "the full 10:00 is full, not too small"
    chosen = re.search(r'<option value="(\d)" selected>', page)
    assert chosen and chosen.group(1) == (people if people in "1234" else "1")


def test_the_chosen_number_of_people_opens_the_form_with_a_place_for_each(
    city: factories.City, client: Client
) -> None:
    slot = factories.slot(city.site, city.renewal, capacity=3)
    day = client.get(
        f"/book/cert_renewal/{city.site.pk}/{VISIT_DAY}/", {"people": "3", "notice": "ABC123456"}
    ).content.decode()
    link = re.search(r'<a class="time-choice" href="([^"]+)"', day)
    assert link, day
    href = link.group(1).replace("&amp;", "&")
    assert href == f"/book/cert_renewal/slot/{slot.pk}/?notice=ABC123456&people=3"

    form = client.get(href).content.decode()
    assert 'name="members" value="2"' in form
    assert 'id="id_member2-given_name_kana"' in form
    assert 'id="id_member3-given_name_kana"' not in form


def test_a_time_that_no_longer_seats_the_family_answers_with_times_that_do(
    city: factories.City, client: Client
) -> None:
    small = factories.slot(city.site, city.renewal, capacity=3, booked=2)
    roomy = factories.slot(city.site, city.renewal, time="11:00", capacity=3)
    factories.slot(city.site, city.renewal, time="10:40", capacity=3, booked=2)

    page = client.get(f"/book/cert_renewal/slot/{small.pk}/", {"people": "2"})

    assert page.status_code == 409
    html = page.content.decode()
    assert re.findall(r'href="/book/cert_renewal/slot/(\d+)/[^"]*people=2"', html) == [
        str(roomy.pk)
    ]
