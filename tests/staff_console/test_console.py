"""Counter console v1: the day view, check-in / served / no-show, and bookings by phone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.reservations.models import Channel, Reservation, ReservationStatus
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.services import call_next_ticket
from tests.conftest import login_staff, signed_in_client, site_official
from tests.resident_site import factories
from tests.resident_site.factories import NOTICE, VISIT_DAY, birth_fields
from tests.resident_site.test_mail_languages import SAYS
from tests.resident_site.test_visit_ics_mail import body_of

pytestmark = pytest.mark.django_db

ON_THE_DAY = clock.at(VISIT_DAY, dt.time(9, 55))


@pytest.fixture
def official(city: factories.City) -> StaffUser:
    return site_official(city.site)


@pytest.fixture
def console(official: StaffUser) -> Client:
    return signed_in_client(official)


book = factories.book_card_pickup


def day_url(city: factories.City) -> str:
    return f"/staff/sites/{city.site.pk}/?day={VISIT_DAY.isoformat()}"


def test_console_needs_a_login(city: factories.City) -> None:
    response = Client().get(f"/staff/sites/{city.site.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")


def test_staff_only_see_sites_they_work_at(city: factories.City) -> None:
    other = StaffUser.objects.create_user(
        "elsewhere", password="x", role=Role.CONTRACTOR, municipality=city.municipality
    )
    client = Client()
    login_staff(client, other)
    assert client.get(f"/staff/sites/{city.site.pk}/").status_code == 403
    assert client.post(f"/staff/sites/{city.site.pk}/phone-booking/").status_code == 403


def test_day_view_lists_bookings_by_time_with_their_status(
    city: factories.City, console: Client
) -> None:
    late = book(city, "11:00", n=1)
    early = book(city, "10:00", n=2)
    page = console.get(day_url(city)).content.decode()
    assert page.index(early.code) < page.index(late.code)
    assert "予約済み 2" in page
    assert "10:00" in page and "11:00" in page


def test_day_view_query_count_does_not_grow_with_bookings(
    city: factories.City, console: Client, django_assert_max_num_queries: Any
) -> None:
    for n in range(12):
        book(city, f"{9 + n // 3:02d}:{(n % 3) * 20:02d}", n=n)
    # session + user + the verified second-factor device, the site, the scope check, the
    # bookings (one query with slot, procedure and queue ticket), their card records (one
    # query), the access record
    with django_assert_max_num_queries(8):
        response = console.get(day_url(city))
    assert response.status_code == 200
    assert response.content.decode().count('action="/staff/reservations/') == 12


def test_check_in_on_the_day_and_a_card_pickup_ends_only_with_the_hand_over(
    city: factories.City, console: Client, official: StaffUser, frozen: Any
) -> None:
    booked = book(city)
    frozen.move_to(ON_THE_DAY)
    login_staff(console, official)  # a new day: the earlier session has timed out

    response = console.post(f"/staff/reservations/{booked.code}/check-in/", {"next": day_url(city)})
    assert response["Location"] == day_url(city)
    booked.refresh_from_db()
    assert booked.status == ReservationStatus.CHECKED_IN
    assert "受付しました" in console.get(day_url(city)).content.decode()

    # Checked in, the visitor waits to be called: the day view says so and links the calling
    # page; nothing closes the visit before the call.
    page = console.get(day_url(city)).content.decode()
    ticket = QueueTicket.objects.get(reservation=booked)
    assert f"<strong>{ticket.label}</strong>（お待ちください" in page
    assert f'href="/staff/queue/sites/{city.site.pk}/"' in page
    assert f"/staff/reservations/{booked.code}/hand-over/" not in page
    refused = console.post(f"/staff/reservations/{booked.code}/served/", follow=True)
    assert "まだお呼びしていません" in refused.content.decode()

    # Called to a counter: a card pick-up has no plain "done" button, it ends with the hand-over.
    call_next_ticket(site=city.site, counter=city.site.counters.first(), actor=Actor.system("t"))
    page = console.get(day_url(city)).content.decode()
    assert f"/staff/reservations/{booked.code}/served/" not in page
    assert f"/staff/reservations/{booked.code}/hand-over/" in page
    refused = console.post(f"/staff/reservations/{booked.code}/served/", follow=True)
    assert "カードの交付がまだ記録されていません" in refused.content.decode()
    booked.refresh_from_db()
    assert booked.status == ReservationStatus.CHECKED_IN


def test_check_in_on_another_day_is_refused_with_the_reason(
    city: factories.City, console: Client
) -> None:
    booked = book(city)
    response = console.post(f"/staff/reservations/{booked.code}/check-in/", follow=True)
    assert "受付できるのは予約日当日だけです。" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == ReservationStatus.BOOKED


def test_no_show_after_the_slot_started(
    city: factories.City, console: Client, official: StaffUser, frozen: Any
) -> None:
    booked = book(city)
    frozen.move_to(clock.at(VISIT_DAY, dt.time(10, 30)))
    login_staff(console, official)  # a new day: the earlier session has timed out
    assert "来庁なし" in console.get(day_url(city)).content.decode()
    console.post(f"/staff/reservations/{booked.code}/no-show/")
    booked.refresh_from_db()
    assert booked.status == ReservationStatus.NO_SHOW


def test_actions_are_post_only(city: factories.City, console: Client) -> None:
    booked = book(city)
    assert console.get(f"/staff/reservations/{booked.code}/check-in/").status_code == 405


def test_phone_booking_goes_through_the_booking_service_as_staff(
    city: factories.City, console: Client, official: StaffUser
) -> None:
    factories.notice_card(city.municipality)
    tomorrow = dt.date(2026, 6, 2)  # inside the residents' 3-day minimum: staff may book it
    slot = factories.slot(city.site, city.pickup, day=tomorrow, time="14:00")
    form = console.get(
        f"/staff/sites/{city.site.pk}/phone-booking/?procedure=card_pickup&day={tomorrow}"
    ).content.decode()
    assert "14:00（残り3）" in form

    response = console.post(
        f"/staff/sites/{city.site.pk}/phone-booking/",
        {
            "procedure": "card_pickup",
            "day": tomorrow.isoformat(),
            "slot": str(slot.pk),
            "notice_number": NOTICE,
            **birth_fields(),
        },
    )

    booked = Reservation.objects.get()
    assert response.status_code == 302
    assert booked.channel == Channel.PHONE
    assert booked.language == "ja"  # no language chosen: Japanese
    assert AuditEvent.objects.get(subject_id=booked.code).actor == f"staff:{official.pk}:official"
    page = console.get(response["Location"]).content.decode()
    assert f"予約コード {booked.code} をお伝えください" in page


def test_phone_booking_errors_are_shown_and_nothing_is_written(
    city: factories.City, console: Client
) -> None:
    slot = factories.slot(city.site, city.pickup)
    response = console.post(
        f"/staff/sites/{city.site.pk}/phone-booking/",
        {
            "procedure": "card_pickup",
            "day": VISIT_DAY.isoformat(),
            "slot": str(slot.pk),
            "notice_number": NOTICE,  # no card behind this notice
            **birth_fields(),
        },
    )
    assert response.status_code == 422
    assert "一致するものが見つかりません" in response.content.decode()
    assert not Reservation.objects.exists()


def _phone_booking(console: Client, city: factories.City, **extra: str) -> Any:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    response = console.post(
        f"/staff/sites/{city.site.pk}/phone-booking/",
        {
            "procedure": "card_pickup",
            "day": VISIT_DAY.isoformat(),
            "slot": str(slot.pk),
            "notice_number": NOTICE,
            **birth_fields(),
            "email": "hanako@example.jp",
            **extra,
        },
    )
    return response


def test_the_phone_booking_form_offers_every_language_with_japanese_chosen(
    city: factories.City, console: Client
) -> None:
    html = console.get(
        f"/staff/sites/{city.site.pk}/phone-booking/?procedure=card_pickup&day={VISIT_DAY}"
    ).content.decode()
    select = html[html.index('<select name="language"') :]
    select = select[: select.index("</select>")]
    for code, name in settings.LANGUAGES:
        assert f'value="{code}"' in select and str(name) in select
    assert '<option value="ja" selected>' in select


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_a_phone_booking_in_the_residents_language_is_confirmed_in_it(
    city: factories.City,
    console: Client,
    smtp_inbox: Any,
    django_capture_on_commit_callbacks: Any,
    language: str,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _phone_booking(console, city, language=language)
    assert response.status_code == 302
    booked = Reservation.objects.get()
    assert (booked.language, booked.channel) == (language, Channel.PHONE)
    (confirmation,) = smtp_inbox.messages
    assert SAYS[language].confirmation_body in body_of(confirmation)
    # the clerk's page stays Japanese
    assert (
        f"予約コード {booked.code} をお伝えください"
        in console.get(response["Location"]).content.decode()
    )


@pytest.mark.parametrize("language", ["klingon", "fr", "ja-jp", "EN"])
def test_a_phone_booking_in_a_language_not_offered_is_refused_and_nothing_is_stored(
    city: factories.City, console: Client, smtp_inbox: Any, language: str
) -> None:
    response = _phone_booking(console, city, language=language)
    assert response.status_code == 422
    assert "その言語は選べません" in response.content.decode()
    assert not Reservation.objects.exists()
    assert smtp_inbox.messages == []


CLERKS_NAME = {
    "ja-x-easy": "やさしい日本語",
    "en": "英語",
    "zh-hans": "中国語（簡体字）",
    "ko": "韓国語",
    "vi": "ベトナム語",
    "pt-br": "ポルトガル語",
}


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_the_day_view_names_a_bookings_language_in_japanese_unless_it_is_japanese(
    city: factories.City, console: Client, language: str
) -> None:
    booked = book(city, "10:00")
    other = book(city, "11:00", n=1)
    Reservation.objects.filter(pk=booked.pk).update(language=language)
    page = console.get(day_url(city)).content.decode()
    row = page[page.index(booked.code) - 1200 : page.index(booked.code)]
    other_row = page[page.index(booked.code) : page.index(other.code)]
    if language == "ja":
        assert "言語：" not in page
    else:
        assert f'<span class="booking-language">言語：{CLERKS_NAME[language]}</span>' in row
        assert "言語：" not in other_row  # the Japanese booking says nothing
    assert set(CLERKS_NAME) | {"ja"} == {code for code, _name in settings.LANGUAGES}


def test_the_staff_menu_links_every_staff_page_the_role_may_use(city: factories.City) -> None:
    owner = city.municipality
    manager = StaffUser.objects.create_user(
        "m", password="pw", role=Role.MANAGER, municipality=owner
    )
    contractor = StaffUser.objects.create_user(
        "c", password="pw", role=Role.CONTRACTOR, municipality=owner
    )
    client = Client()
    login_staff(client, manager)
    html = client.get("/staff/").content.decode()
    assert "/staff/queue/" in html and "/staff/issuance/" in html and "/staff/planning/" in html
    login_staff(client, contractor)
    html = client.get("/staff/").content.decode()
    assert "/staff/queue/" in html and "/staff/planning/" not in html
