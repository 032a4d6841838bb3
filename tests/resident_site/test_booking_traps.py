"""The booking flow without traps (one test per trap a resident fell into on a phone): the
birth date starts empty and names its era, a session's first time is its opening time, a post
office refuses a proxy before the confirmation page, no internal state name reaches anyone, and
a booking that can no longer move never shows a calendar."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.dates import wareki_years, year_with_wareki
from madoguchi.core.errors import DomainError
from madoguchi.core.transitions import check_transition
from madoguchi.issuance.models import CARD_TRANSITIONS, CardStatus
from madoguchi.issuance.services import CARD_LABELS
from madoguchi.offices.models import SiteKind
from madoguchi.reservations import services
from madoguchi.reservations.forms import OLDEST_AGE_YEARS, IdentifyForm, LookupForm
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.reservations.services import RESERVATION_LABELS, RESERVATION_TRANSITIONS
from madoguchi.reservations.slots import spread_seats
from madoguchi.walkins.models import TicketStatus
from madoguchi.walkins.services import (
    APPOINTMENT_TICKET_TRANSITIONS,
    TICKET_LABELS,
    TICKET_TRANSITIONS,
)
from tests.frozen_clock import frozen_at
from tests.offices import factories as offices
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, VISIT_DAY, birth_fields

pytestmark = pytest.mark.django_db

# --- the birth date ----------------------------------------------------------------------------


def test_the_birth_date_selects_start_empty(city: factories.City, client: Client) -> None:
    slot = factories.slot(city.site, city.pickup)
    page = client.get(f"/book/card_pickup/slot/{slot.pk}/").content.decode()
    for part in ("year", "month", "day"):
        select = re.search(rf'<select name="birth_date_{part}".*?</select>', page, re.S)
        assert select, part
        selected = re.findall(r'<option value="([^"]*)"[^>]*selected', select.group(0))
        assert selected == [""], (part, selected)


def test_an_untouched_birth_date_is_asked_for_in_japanese(
    city: factories.City, client: Client
) -> None:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    empty = {"birth_date_year": "", "birth_date_month": "", "birth_date_day": ""}
    response = client.post(
        f"/book/card_pickup/slot/{slot.pk}/", {"notice_number": factories.NOTICE, **empty}
    )
    assert response.status_code == 422
    assert "生年月日の年・月・日をすべて選んでください。" in response.content.decode()
    assert not Reservation.objects.exists()


def test_a_birth_date_with_a_select_left_empty_is_asked_for_again() -> None:
    form = LookupForm(
        {
            "code": "ACDEFGHJKL",
            "birth_date_year": "1985",
            "birth_date_month": "",
            "birth_date_day": "",
        }
    )
    assert not form.is_valid()
    assert form.errors["birth_date"] == ["生年月日の年・月・日をすべて選んでください。"]


def test_years_are_shown_with_their_era(city: factories.City, client: Client) -> None:
    slot = factories.slot(city.site, city.pickup)
    page = client.get(f"/book/card_pickup/slot/{slot.pk}/").content.decode()
    assert '<option value="1985">1985年（昭和60年）</option>' in page
    assert '<option value="1989">1989年（昭和64年・平成元年）</option>' in page
    assert '<option value="2019">2019年（平成31年・令和元年）</option>' in page


def test_a_baby_born_this_year_can_be_chosen_after_new_year_in_a_running_process() -> None:
    """The year list follows the clock, not the moment the form class was defined: a server
    started in December still offers the new year (a newborn's first card) in January."""
    new_year = dt.datetime(2040, 1, 5, 10, 0, tzinfo=clock.JST)  # long after the import
    with frozen_at(new_year):
        form = LookupForm()
        page = str(form["birth_date"])
        years = [int(y) for y in re.findall(r'<option value="(\d{4})"', page)]
        assert years[0] == new_year.year
        assert years[-1] == new_year.year - OLDEST_AGE_YEARS


@pytest.mark.parametrize(
    ("year", "eras"),
    [
        (1906, ["明治39年"]),
        (1912, ["明治45年", "大正元年"]),
        (1926, ["大正15年", "昭和元年"]),
        (1927, ["昭和2年"]),
        (1988, ["昭和63年"]),
        (1989, ["昭和64年", "平成元年"]),
        (2018, ["平成30年"]),
        (2019, ["平成31年", "令和元年"]),
        (2026, ["令和8年"]),
    ],
)
def test_wareki_years(year: int, eras: list[str]) -> None:
    assert wareki_years(year) == eras


def test_the_english_page_keeps_the_era_in_its_own_form() -> None:
    assert year_with_wareki(1985, pattern="%(year)s (%(eras)s)") == "1985 (昭和60年)"


# --- times start at the session's start ---------------------------------------------------------


def test_a_session_with_less_than_one_seat_per_slot_opens_at_its_start() -> None:
    seats, carry = spread_seats(10, 0.8, 0.0)
    assert seats[0] == 1 and sum(seats) == 8 and carry == pytest.approx(0.0)
    seats, _carry = spread_seats(9, 0.3, 0.0)
    assert seats[0] == 1 and sum(seats) == 2
    seats, carry = spread_seats(4, 0.25, 0.5)
    assert seats == [1, 0, 0, 0] and carry == pytest.approx(0.5)
    assert spread_seats(6, 2.5, 0.0)[0] == [3, 2, 3, 2, 3, 2]


def test_generated_slots_start_at_the_opening_time(frozen: Any) -> None:
    owner = offices.municipality(walkin_share_percent=20)
    pickup = offices.procedure("card_pickup")  # 20 minutes
    renewal = offices.procedure("cert_renewal")
    site = offices.site(owner, counters=1, terminals=1, weekday_hours=("09:00", "12:00"))
    site.procedures.set([pickup, renewal])
    from madoguchi.reservations.models import Slot
    from madoguchi.reservations.slots import regenerate_site_slots

    regenerate_site_slots(site=site, first=VISIT_DAY, last=VISIT_DAY, actor=Actor.system("t"))
    opening = clock.at(VISIT_DAY, dt.time(9, 0))
    for procedure in (pickup, renewal):
        first = Slot.objects.filter(site=site, procedure=procedure).order_by("starts_at").first()
        assert first is not None and first.starts_at == opening, procedure.code


# --- proxies at a post office ----------------------------------------------------------------


@pytest.fixture
def post_office(city: factories.City) -> Any:
    site = offices.site(city.municipality, kind=SiteKind.POST_OFFICE, name="みどり中央郵便局")
    site.procedures.set([city.renewal])
    return site


def renewal_post(**overrides: str) -> dict[str, str]:
    data = {
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "email": "taro@example.jp",
        "is_proxy": "on",
        **birth_fields(),
    }
    data.update(overrides)
    return data


def test_a_post_office_refuses_a_proxy_before_the_confirmation_page(
    city: factories.City, post_office: Any, client: Client
) -> None:
    slot = factories.slot(post_office, city.renewal)
    page = client.get(f"/book/cert_renewal/slot/{slot.pk}/").content.decode()
    assert "郵便局の窓口では、ご本人の手続きだけをお受けしています。" in page
    assert 'name="is_proxy"' not in page, "no proxy box where a proxy cannot come"

    response = client.post(f"/book/cert_renewal/slot/{slot.pk}/", renewal_post())

    assert response.status_code == 422
    html = response.content.decode()
    assert "郵便局の窓口では、ご本人の手続きだけをお受けしています。" in html
    assert 'name="token"' not in html, "not the confirmation page"
    assert not Reservation.objects.exists()


def test_the_booking_service_refuses_a_proxy_at_a_post_office(
    city: factories.City, post_office: Any
) -> None:
    slot = factories.slot(post_office, city.renewal)
    applicant = services.Applicant(
        birth_date=BIRTH, family_name_kana="ヤマダ", given_name_kana="タロウ", phone="0312345678"
    )
    with pytest.raises(DomainError) as refused:
        services.book_reservation(
            slot_id=slot.pk,
            procedure_code="cert_renewal",
            applicant=services.Applicant(**{**applicant.__dict__, "is_proxy": True}),
            actor=Actor.resident(),
        )
    assert refused.value.code == "proxy_not_at_site"
    assert not Reservation.objects.exists()
    booked = services.book_reservation(
        slot_id=slot.pk, procedure_code="cert_renewal", applicant=applicant, actor=Actor.resident()
    )
    assert booked.is_proxy is False


def test_a_proxy_is_still_taken_at_the_city_hall(city: factories.City, client: Client) -> None:
    slot = factories.slot(city.site, city.renewal)
    form = IdentifyForm(renewal_post(), procedure=city.renewal, site=city.site)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["is_proxy"] is True
    assert slot.site.takes_proxies


def test_the_site_list_says_a_post_office_serves_the_holder_only(
    city: factories.City, post_office: Any, client: Client
) -> None:
    page = client.get("/book/cert_renewal/").content.decode()
    assert "ご本人の手続きだけをお受けしています（代理人は不可）。" in page


# --- no internal state names --------------------------------------------------------------------

TABLES = [
    ("予約", RESERVATION_TRANSITIONS, RESERVATION_LABELS, ReservationStatus.values),
    ("カード", CARD_TRANSITIONS, CARD_LABELS, CardStatus.values),
    ("整理券", TICKET_TRANSITIONS, TICKET_LABELS, TicketStatus.values),
    ("整理券", APPOINTMENT_TICKET_TRANSITIONS, TICKET_LABELS, TicketStatus.values),
]
INTERNAL_NAME = re.compile(r"[a-z_]{3,}")


@pytest.mark.parametrize(("what", "table", "labels", "states"), TABLES)
def test_every_refused_transition_speaks_japanese(
    what: str, table: Any, labels: dict[str, str], states: list[str]
) -> None:
    refused = 0
    for current in states:
        for target in states:
            if target in table.get(current, ()):
                continue
            with pytest.raises(DomainError) as error:
                check_transition(table, current, target, what=what, labels=labels)
            message = error.value.message
            assert not INTERNAL_NAME.search(message), message
            assert f"「{labels[current]}」" in message and f"「{labels[target]}」" in message
            refused += 1
    assert refused > 0


def test_a_state_without_a_label_is_not_named() -> None:
    with pytest.raises(DomainError) as error:
        check_transition({}, "cancelled", "rescheduled", what="予約", labels={})
    assert "cancelled" not in error.value.message and "rescheduled" not in error.value.message


# --- a booking that cannot move shows no calendar ------------------------------------------------


def booked_on_the_page(city: factories.City, client: Client) -> Reservation:
    booked = factories.book_card_pickup(city)
    response = client.post("/lookup/", {"code": booked.code, **birth_fields(BIRTH)})
    assert response.status_code == 302
    return booked


def _reschedule_pages(booked: Reservation, slot_id: int) -> list[str]:
    return [
        f"/reservation/{booked.code}/reschedule/",
        f"/reservation/{booked.code}/reschedule/{(VISIT_DAY + dt.timedelta(days=1)).isoformat()}/",
        f"/reservation/{booked.code}/reschedule/slot/{slot_id}/",
    ]


def test_a_cancelled_booking_cannot_open_the_reschedule_pages(
    city: factories.City, client: Client
) -> None:
    booked = booked_on_the_page(city, client)
    other = factories.slot(city.site, city.pickup, day=VISIT_DAY + dt.timedelta(days=1))
    services.cancel_reservation(code=booked.code, actor=Actor.resident())
    for url in _reschedule_pages(booked, other.pk):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 409, url
        assert "この予約は取り消されているため、日時を変更できません。" in html, url
        assert 'class="month"' not in html and "time-choice" not in html, url
        assert "cancelled" not in html and "rescheduled" not in html, url
    response = client.post(_reschedule_pages(booked, other.pk)[2])
    assert response.status_code == 409
    booked.refresh_from_db()
    assert booked.status == ReservationStatus.CANCELLED and booked.slot_id != other.pk


def test_a_past_booking_cannot_open_the_reschedule_pages(
    city: factories.City, client: Client, frozen: Any
) -> None:
    booked = booked_on_the_page(city, client)
    other = factories.slot(city.site, city.pickup, day=VISIT_DAY + dt.timedelta(days=3))
    frozen.move_to(clock.at(VISIT_DAY, dt.time(15, 0)))
    for url in _reschedule_pages(booked, other.pk):
        response = client.get(url)
        assert response.status_code == 409, url
        assert "この予約の日時は過ぎているため、変更できません。" in response.content.decode()


def test_the_reschedule_pages_keep_the_booking_at_its_own_site(
    city: factories.City, client: Client
) -> None:
    """The pages move a booking to another time at the same site (the confirmation names that
    site): a slot of another site, its id typed into the address, is as unknown as a wrong id."""
    booked = booked_on_the_page(city, client)
    elsewhere = offices.site(city.municipality, name="みどり北支所")
    elsewhere.procedures.set([city.pickup])
    there = factories.slot(elsewhere, city.pickup, day=VISIT_DAY + dt.timedelta(days=1))
    url = f"/reservation/{booked.code}/reschedule/slot/{there.pk}/"

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404

    booked.refresh_from_db()
    assert booked.slot.site_id == city.site.pk and booked.status == ReservationStatus.BOOKED
    there.refresh_from_db()
    assert there.booked == 0


def test_the_service_refuses_to_move_a_cancelled_booking_in_japanese(
    city: factories.City,
) -> None:
    booked = factories.book_card_pickup(city)
    other = factories.slot(city.site, city.pickup, time="11:00")
    services.cancel_reservation(code=booked.code, actor=Actor.resident())
    with pytest.raises(DomainError) as refused:
        services.reschedule_reservation(code=booked.code, slot_id=other.pk, actor=Actor.resident())
    assert (refused.value.code, refused.value.status) == ("not_reschedulable", 409)
    assert "取り消されているため" in refused.value.message
    assert not INTERNAL_NAME.search(refused.value.message)


def test_staff_may_still_move_a_booking_its_visitor_missed(
    city: factories.City, frozen: Any
) -> None:
    from madoguchi.staff.models import StaffUser

    booked = factories.book_card_pickup(city)
    later = factories.slot(city.site, city.pickup, day=VISIT_DAY + dt.timedelta(days=3))
    frozen.move_to(clock.at(VISIT_DAY, dt.time(15, 0)))
    clerk = StaffUser.objects.create(username="clerk")
    moved = services.reschedule_reservation(
        code=booked.code, slot_id=later.pk, actor=Actor.staff(clerk), channel="phone"
    )
    assert moved.slot_id == later.pk


def test_a_cancelled_booking_is_not_asked_to_be_cancelled_again(
    city: factories.City, client: Client
) -> None:
    booked = booked_on_the_page(city, client)
    services.cancel_reservation(code=booked.code, actor=Actor.resident())
    for response in (
        client.get(f"/reservation/{booked.code}/cancel/"),
        client.post(f"/reservation/{booked.code}/cancel/"),
    ):
        html = response.content.decode()
        assert response.status_code == 409
        assert "この予約はすでに取り消されています。" in html
        assert "この予約を取り消しますか" not in html
        assert not INTERNAL_NAME.search(_alert(html))


def _alert(html: str) -> str:
    found = re.search(r'role="alert".*?</div>', html, re.S)
    assert found, "the reason is an alert"
    return re.sub(r"<[^>]+>|id=\"[^\"]*\"|role=\"alert\"|tabindex=\"-1\"", "", found.group(0))


def test_an_individual_number_typed_by_mistake_is_refused_and_not_shown_back(
    city: factories.City, client: Client
) -> None:
    """The refusal names the field; the number itself is not written back into the page (nor
    into a browser's form history from there) — the other inputs are kept."""
    number = "1234 5678 9018"  # a valid check digit
    slot = factories.slot(city.site, city.pickup)
    response = client.post(
        f"/book/card_pickup/slot/{slot.pk}/",
        {"notice_number": number, "email": "taro@example.jp", **birth_fields(BIRTH)},
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert "個人番号（マイナンバー）と思われる12桁の番号" in page
    assert "5678" not in page and "123456789018" not in page
    assert 'value="taro@example.jp"' in page
    assert f'<option value="{BIRTH.year}" selected' in page
