"""The residents' booking pages, driven through Django's test client as a phone without JS would."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from madoguchi.core import clock
from madoguchi.core.models import AuditEvent
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.offices.models import SiteKind
from madoguchi.reservations.models import Reservation, ReservationStatus, Slot
from tests.offices import factories as offices
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE, VISIT_DAY, birth_fields
from tests.resident_site.test_visit_ics_mail import body_of

pytestmark = pytest.mark.django_db


def pickup_post(slot: Slot, **overrides: str) -> dict[str, str]:
    data = {"notice_number": NOTICE, **birth_fields()}
    data.update(overrides)
    return data


def identify_url(slot: Slot) -> str:
    return f"/book/{slot.procedure.code}/slot/{slot.pk}/"


def confirm(client: Client, slot: Slot, data: dict[str, str]) -> Any:
    """Post the form, read the token from the confirmation page, and book."""
    page = client.post(identify_url(slot), data)
    assert page.status_code == 200, page.content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page.content.decode())
    assert token, "the confirmation page carries a one-time token"
    return client.post(identify_url(slot), {**data, "step": "confirm", "token": token.group(1)})


# --- choosing --------------------------------------------------------------------------------


def test_procedure_page_lists_what_sites_offer(city: factories.City, client: Client) -> None:
    page = client.get("/book/").content.decode()
    assert "マイナンバーカードの受け取り" in page
    assert 'href="/book/card_pickup/"' in page


def test_site_page_lists_only_sites_offering_the_procedure(
    city: factories.City, client: Client
) -> None:
    post = offices.site(city.municipality, kind=SiteKind.POST_OFFICE, name="みどり中央郵便局")
    post.procedures.set([city.renewal, city.pickup])  # a post office never hands over cards

    pickup = client.get("/book/card_pickup/").content.decode()
    renewal = client.get("/book/cert_renewal/").content.decode()

    assert "みどり本庁舎" in pickup and "みどり中央郵便局" not in pickup
    assert "みどり中央郵便局" in renewal
    assert "〒123-4567 みどり市中央1-1" in pickup


def test_notice_qr_code_url_carries_the_notice_number_to_the_form(
    city: factories.City, client: Client
) -> None:
    slot = factories.slot(city.site, city.pickup)
    sites = client.get(f"/book/card_pickup/?notice={NOTICE}").content.decode()
    assert f"/book/card_pickup/{city.site.pk}/?notice={NOTICE}" in sites

    month = client.get(f"/book/card_pickup/{city.site.pk}/?notice={NOTICE}").content.decode()
    assert f"/book/card_pickup/{city.site.pk}/{VISIT_DAY.isoformat()}/?notice={NOTICE}" in month

    day = client.get(f"/book/card_pickup/{city.site.pk}/{VISIT_DAY}/?notice={NOTICE}")
    assert f"{identify_url(slot)}?notice={NOTICE}" in day.content.decode()

    form = client.get(f"{identify_url(slot)}?notice={NOTICE}").content.decode()
    assert f'value="{NOTICE}"' in form


def test_month_shows_symbols_with_words_and_links_only_free_days(
    city: factories.City, client: Client
) -> None:
    factories.slot(city.site, city.pickup, day=VISIT_DAY, capacity=3)
    factories.slot(
        city.site, city.pickup, day=VISIT_DAY + dt.timedelta(days=1), capacity=3, booked=3
    )
    factories.slot(
        city.site, city.pickup, day=VISIT_DAY + dt.timedelta(days=2), capacity=3, booked=2
    )

    page = client.get(f"/book/card_pickup/{city.site.pk}/").content.decode()

    assert "6月10日（水） 空きあり" in page
    assert "6月11日（木） 空きなし" in page
    assert "6月12日（金） 残りわずか" in page
    assert f"/{VISIT_DAY.isoformat()}/" in page
    assert "/2026-06-11/" not in page, "a full day is not a link"
    assert "予約できるのは 6月4日 から 7月16日 までです。" in page


def test_month_navigation_stays_inside_the_booking_window(
    city: factories.City, client: Client
) -> None:
    june = client.get(f"/book/card_pickup/{city.site.pk}/").content.decode()
    july = client.get(f"/book/card_pickup/{city.site.pk}/?month=2026-07").content.decode()
    assert "2026年6月" in june and "month=2026-07" in june
    assert "2026年7月" in july and "次の月" not in july
    assert (
        "2026年6月"
        in client.get(f"/book/card_pickup/{city.site.pk}/?month=2030-01").content.decode()
    )


def test_day_lists_times_and_shows_full_ones_without_a_link(
    city: factories.City, client: Client
) -> None:
    free = factories.slot(city.site, city.pickup, time="10:00")
    full = factories.slot(city.site, city.pickup, time="10:20", booked=3)
    page = client.get(f"/book/card_pickup/{city.site.pk}/{VISIT_DAY}/").content.decode()
    assert identify_url(free) in page
    assert identify_url(full) not in page
    assert ">10時台<" in page and ">10:20<" in page and "空きなし" in page


# --- identifying and booking -----------------------------------------------------------------


def test_card_pickup_books_and_shows_code_and_what_to_bring(
    city: factories.City, client: Client
) -> None:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)

    response = confirm(client, slot, pickup_post(slot))

    booked = Reservation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reservation/{booked.code}/"
    page = client.get(response["Location"]).content.decode()
    assert booked.code in page
    assert "2026年6月10日（水） 10:00〜10:20" in page
    assert "本人確認書類（写真付き1点、または写真なし2点）" in page
    assert f"/reservation/{booked.code}/calendar.ics" in page


def test_confirmation_page_books_nothing_yet(city: factories.City, client: Client) -> None:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    page = client.post(identify_url(slot), pickup_post(slot)).content.decode()
    assert "この内容で予約する" in page
    assert "まだ予約は確定していません" in page
    assert not Reservation.objects.exists()


def test_proxy_booking_lists_the_proxy_documents(city: factories.City, client: Client) -> None:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    form = client.get(identify_url(slot)).content.decode()
    assert "75歳以上の方" in form and "「仕事が忙しい」は理由になりません" in form

    data = pickup_post(slot, is_proxy="on")
    assert "代理の理由を証明する書類" in client.post(identify_url(slot), data).content.decode()
    response = confirm(client, slot, data)

    assert Reservation.objects.get().is_proxy
    assert "代理人の本人確認書類" in client.get(response["Location"]).content.decode()


def test_full_width_notice_number_is_accepted(city: factories.City, client: Client) -> None:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    confirm(client, slot, pickup_post(slot, notice_number="ａｂｃ－１２３４５６"))
    assert Reservation.objects.get().notice_number == NOTICE


def test_double_submit_books_once_and_shows_the_same_booking(
    city: factories.City, client: Client
) -> None:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    data = pickup_post(slot)
    token = re.search(
        r'name="token" value="([^"]+)"', client.post(identify_url(slot), data).content.decode()
    )
    assert token
    final = {**data, "step": "confirm", "token": token.group(1)}

    first = client.post(identify_url(slot), final)
    second = client.post(identify_url(slot), final)

    assert first["Location"] == second["Location"]
    assert Reservation.objects.count() == 1
    slot.refresh_from_db()
    assert slot.booked == 1


def test_malformed_notice_number_is_explained_next_to_the_field_and_in_a_summary(
    city: factories.City, client: Client
) -> None:
    slot = factories.slot(city.site, city.pickup)
    response = client.post(identify_url(slot), pickup_post(slot, notice_number="AB12"))
    page = response.content.decode()
    assert response.status_code == 422
    assert 'role="alert"' in page
    assert "英数字3文字と数字6桁" in page
    assert 'href="#id_notice_number"' in page
    assert 'aria-invalid="true"' in page


def test_impossible_birth_date_is_refused(city: factories.City, client: Client) -> None:
    slot = factories.slot(city.site, city.pickup)
    data = pickup_post(slot, birth_date_month="2", birth_date_day="31")
    page = client.post(identify_url(slot), data).content.decode()
    assert "存在する日付を選んでください" in page


def test_a_card_handed_over_already_is_named_on_the_page_in_the_residents_language(
    city: factories.City, client: Client
) -> None:
    card = factories.notice_card(city.municipality)
    CardRecord.objects.filter(pk=card.pk).update(
        status=CardStatus.HANDED_OVER, is_proxy=False, handed_over_at=clock.now()
    )
    slot = factories.slot(city.site, city.pickup)
    response = confirm(client, slot, pickup_post(slot))
    page = response.content.decode()
    assert response.status_code == 409
    assert "ABC-123456 のカードは、すでにお渡ししています" in page
    assert "一致するものが見つかりません" not in page
    client.cookies["django_language"] = "en"
    page = confirm(client, slot, pickup_post(slot)).content.decode()
    assert "The card with notice number ABC-123456 has already been handed over" in page
    assert not Reservation.objects.exists()


def test_wrong_birth_date_gets_the_uniform_message_and_writes_nothing(
    city: factories.City, client: Client
) -> None:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    response = confirm(client, slot, pickup_post(slot, **birth_fields(dt.date(1980, 5, 18))))
    assert response.status_code == 404
    assert "一致するものが見つかりません" in response.content.decode()
    assert not Reservation.objects.exists()
    slot.refresh_from_db()
    assert slot.booked == 0


def test_full_slot_offers_the_nearest_free_times(city: factories.City, client: Client) -> None:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup, time="10:00", capacity=1)
    nearby = factories.slot(city.site, city.pickup, time="10:20")
    data = pickup_post(slot)
    token = re.search(
        r'name="token" value="([^"]+)"', client.post(identify_url(slot), data).content.decode()
    )
    assert token
    Slot.objects.filter(pk=slot.pk).update(booked=1)  # somebody was faster

    response = client.post(identify_url(slot), {**data, "step": "confirm", "token": token.group(1)})

    assert response.status_code == 409
    page = response.content.decode()
    assert "近い時間の空き" in page
    assert f"{identify_url(nearby)}?notice={NOTICE}" in page
    assert not Reservation.objects.exists()


def test_past_slot_and_outside_window_are_refused_in_japanese(
    city: factories.City, client: Client
) -> None:
    factories.notice_card(city.municipality)
    too_soon = factories.slot(city.site, city.pickup, day=dt.date(2026, 6, 2))
    past = factories.slot(city.site, city.pickup, day=dt.date(2026, 6, 1), time="08:30")
    assert (
        "予約は3日後から45日後まで"
        in confirm(client, too_soon, pickup_post(too_soon)).content.decode()
    )
    assert (
        "過ぎた時間の枠は予約できません"
        in confirm(client, past, pickup_post(past)).content.decode()
    )
    assert not Reservation.objects.exists()


def test_refusals_are_explained_in_english_when_the_page_is_english(
    city: factories.City, client: Client
) -> None:
    """The services' messages follow the page's language (Japanese is only the default)."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    factories.notice_card(city.municipality)
    too_soon = factories.slot(city.site, city.pickup, day=dt.date(2026, 6, 2))
    slot = factories.slot(city.site, city.pickup, time="10:00", capacity=1)
    wrong_birth = confirm(client, slot, pickup_post(slot, **birth_fields(dt.date(1980, 5, 18))))
    assert wrong_birth.status_code == 404
    assert "Nothing matches the number and date of birth you entered" in (
        wrong_birth.content.decode()
    )
    outside = confirm(client, too_soon, pickup_post(too_soon)).content.decode()
    assert "Bookings are taken for time slots from 3 to 45 days ahead." in outside
    malformed = client.post(identify_url(slot), pickup_post(slot, notice_number="AB12"))
    assert "3 letters or digits and 6 digits" in malformed.content.decode()
    Slot.objects.filter(pk=slot.pk).update(booked=1)
    full = client.post(identify_url(slot), pickup_post(slot))  # refused at the confirmation
    assert full.status_code == 409
    assert "this time slot is full" in full.content.decode()
    assert not Reservation.objects.exists()


def test_renewal_needs_kana_and_a_contact(city: factories.City, client: Client) -> None:
    slot = factories.slot(city.site, city.renewal)
    page = client.post(identify_url(slot), birth_fields()).content.decode()
    assert "氏をフリガナ（カタカナ）で入力してください。" in page
    assert "メールアドレスか電話番号のどちらかを入力してください。" in page


def test_renewal_books_with_hiragana_and_sends_the_confirmation_mail(
    city: factories.City, client: Client, smtp_inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    slot = factories.slot(city.site, city.renewal)
    data = {
        "family_name_kana": "やまだ",
        "given_name_kana": "ﾊﾅｺ",
        "email": "hanako@example.jp",
        "phone": "０３－１２３４－５６７８",
        **birth_fields(),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client, slot, data)

    booked = Reservation.objects.get()
    assert response.status_code == 302
    assert (booked.family_name_kana, booked.given_name_kana) == ("ヤマダ", "ハナコ")
    assert booked.phone == "0312345678"
    (message,) = smtp_inbox.messages
    assert booked.code in body_of(message)


# --- the reservation afterwards --------------------------------------------------------------


def booked_pickup(city: factories.City, client: Client, **slot_kw: Any) -> Reservation:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup, **slot_kw)
    confirm(client, slot, pickup_post(slot))
    return Reservation.objects.get()


def test_reservation_page_needs_code_and_birth_date(city: factories.City, client: Client) -> None:
    booked = booked_pickup(city, client)
    stranger = Client()
    assert (
        stranger.get(f"/reservation/{booked.code}/")["Location"] == f"/lookup/?code={booked.code}"
    )

    wrong = stranger.post("/lookup/", {"code": booked.code, **birth_fields(dt.date(1980, 5, 18))})
    unknown = stranger.post("/lookup/", {"code": "ACDEFGHJKL", **birth_fields()})
    assert wrong.status_code == unknown.status_code == 422
    message = "一致するものが見つかりません"
    assert message in wrong.content.decode() and message in unknown.content.decode()

    right = stranger.post("/lookup/", {"code": booked.code.lower(), **birth_fields(BIRTH)})
    assert right["Location"] == f"/reservation/{booked.code}/"
    assert booked.code in stranger.get(right["Location"]).content.decode()


def test_ics_download(city: factories.City, client: Client) -> None:
    booked = booked_pickup(city, client)
    response = client.get(f"/reservation/{booked.code}/calendar.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert b"BEGIN:VEVENT" in response.content


def test_the_calendar_file_follows_a_new_time_and_a_cancellation(
    city: factories.City, client: Client, frozen: Any
) -> None:
    """The .ics keeps its UID and its SEQUENCE is the booking's revision, one up with each
    change (RFC 5545 3.8.7.4: a calendar takes an entry with the same UID as an update only
    when the SEQUENCE is higher): 0 when booked, 1 and 2 after two new times, 3 after the
    cancellation, which says STATUS:CANCELLED and rings no alarm. (It was the seconds from the
    booking to its last change: 300, 600, 900 here — and a check-in moved it too.)"""
    from icalendar import Calendar

    def event() -> Any:
        ics = client.get(f"/reservation/{booked.code}/calendar.ics").content
        (found,) = Calendar.from_ical(ics).walk("VEVENT")
        return found

    booked = booked_pickup(city, client)
    first = event()
    assert first["sequence"] == 0
    assert str(first["status"]) == "CONFIRMED" and first.walk("VALARM")
    moves = []
    for days in (1, 2):
        later = factories.slot(city.site, city.pickup, day=VISIT_DAY + dt.timedelta(days=days))
        frozen.shift(dt.timedelta(minutes=5))
        client.post(f"/reservation/{booked.code}/reschedule/slot/{later.pk}/")
        moved = event()
        assert moved["uid"] == first["uid"] and moved.decoded("dtstart") == later.starts_at
        moves.append(moved["sequence"])
    assert moves == [1, 2]
    frozen.shift(dt.timedelta(minutes=5))
    client.post(f"/reservation/{booked.code}/cancel/")
    cancelled = event()
    assert cancelled["uid"] == first["uid"] and cancelled["sequence"] == 3
    assert str(cancelled["status"]) == "CANCELLED" and not cancelled.walk("VALARM")


def test_the_calendar_file_is_in_the_pages_language(city: factories.City, client: Client) -> None:
    """Its labels and alarm were Japanese whatever language the page was in."""
    from icalendar import Calendar

    booked = booked_pickup(city, client)
    client.cookies["django_language"] = "en"
    ics = client.get(f"/reservation/{booked.code}/calendar.ics").content
    (found,) = Calendar.from_ical(ics).walk("VEVENT")
    description = str(found["description"])
    assert f"Booking code: {booked.code}" in description and "What to bring:" in description
    (alarm,) = found.walk("VALARM")
    assert str(alarm["description"]).startswith("[Reminder] ")
    assert f"(booking code {booked.code})" in str(alarm["description"])
    for japanese in ("予約コード", "手続き", "持ち物", "明日は"):
        assert japanese not in description + str(alarm["description"])


def test_cancel_gives_the_seat_back(city: factories.City, client: Client) -> None:
    booked = booked_pickup(city, client)
    assert (
        "この予約を取り消しますか"
        in client.get(f"/reservation/{booked.code}/cancel/").content.decode()
    )

    response = client.post(f"/reservation/{booked.code}/cancel/")

    booked.refresh_from_db()
    assert booked.status == ReservationStatus.CANCELLED
    assert Slot.objects.get().booked == 0
    page = client.get(response["Location"]).content.decode()
    assert "予約を取り消しました。" in page and "この予約は取り消されています" in page


def test_cancel_after_the_cut_off_is_refused(
    city: factories.City, client: Client, frozen: Any
) -> None:
    booked = booked_pickup(city, client)
    frozen.move_to(clock.at(VISIT_DAY - dt.timedelta(days=1), dt.time(9, 0)))
    page = client.get(f"/reservation/{booked.code}/").content.decode()
    assert "変更・取消の受付期限を過ぎています" in page
    response = client.post(f"/reservation/{booked.code}/cancel/")
    assert response.status_code == 409
    assert "インターネットでは取消・変更できません" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == ReservationStatus.BOOKED


def test_reschedule_moves_the_booking_to_another_time(city: factories.City, client: Client) -> None:
    booked = booked_pickup(city, client)
    later_day = VISIT_DAY + dt.timedelta(days=1)
    later = factories.slot(city.site, city.pickup, day=later_day, time="14:00")

    month = client.get(f"/reservation/{booked.code}/reschedule/").content.decode()
    assert f"/reservation/{booked.code}/reschedule/{later_day.isoformat()}/" in month
    day = client.get(f"/reservation/{booked.code}/reschedule/{later_day}/").content.decode()
    confirm_url = f"/reservation/{booked.code}/reschedule/slot/{later.pk}/"
    assert confirm_url in day
    assert "変更後" in client.get(confirm_url).content.decode()

    response = client.post(confirm_url)

    booked.refresh_from_db()
    assert booked.slot_id == later.pk
    page = client.get(response["Location"]).content.decode()
    assert "予約の日時を変更しました。" in page
    assert "2026年6月11日（木） 14:00" in page


def test_reschedule_into_the_bookings_own_time_says_nothing_changed(
    city: factories.City, client: Client
) -> None:
    booked = booked_pickup(city, client)
    later = factories.slot(
        city.site, city.pickup, day=VISIT_DAY + dt.timedelta(days=1), time="14:00"
    )
    moved = client.post(f"/reservation/{booked.code}/reschedule/slot/{later.pk}/")
    assert "予約の日時を変更しました。" in client.get(moved["Location"]).content.decode()
    booked.refresh_from_db()
    assert booked.slot_id == later.pk
    events = AuditEvent.objects.filter(subject_id=booked.code).count()
    # the back button to the confirmation just used, its form sent again, and the address typed
    own_time = f"/reservation/{booked.code}/reschedule/slot/{later.pk}/"
    for send in (client.get, client.post):
        response = send(own_time)
        assert response["Location"] == f"/reservation/{booked.code}/"
        page = client.get(response["Location"]).content.decode()
        assert "この予約はすでにこの日時です。日時は変わっていません。" in page
        assert "予約の日時を変更しました。" not in page
        assert "2026年6月11日（木） 14:00" in page, "the booking is shown"
    booked.refresh_from_db()
    assert booked.slot_id == later.pk
    assert AuditEvent.objects.filter(subject_id=booked.code).count() == events


def test_english_interface_translates_the_booking_pages(
    city: factories.City, client: Client
) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/book/"})
    page = client.get("/book/").content.decode()
    assert '<html lang="en">' in page
    assert "Book a visit: Choose a procedure" in page
    month = client.get(f"/book/card_pickup/{city.site.pk}/").content.decode()
    assert ">Sun</th>" in month, "weekday headers use their own context, not the date labels"
    slot = factories.slot(city.site, city.pickup)
    form = client.get(identify_url(slot)).content.decode()
    assert "Date of birth" in form and ">Year</label>" in form


def test_reschedule_into_a_full_time_offers_the_nearest_free_ones(
    city: factories.City, client: Client
) -> None:
    booked = booked_pickup(city, client)
    full = factories.slot(city.site, city.pickup, time="14:00", capacity=1, booked=1)
    free = factories.slot(city.site, city.pickup, time="14:20")

    response = client.post(f"/reservation/{booked.code}/reschedule/slot/{full.pk}/")

    assert response.status_code == 409
    page = response.content.decode()
    assert "予約枠はいっぱいです" in page
    assert f"/reservation/{booked.code}/reschedule/slot/{free.pk}/" in page
    booked.refresh_from_db()
    assert booked.slot_id != full.pk


def test_guessing_birth_dates_for_a_notice_is_stopped(
    city: factories.City, client: Client, settings: Any
) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {"notice": (3, 600)}
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    statuses = [
        confirm(client, slot, pickup_post(slot, **birth_fields(dt.date(1980, 5, day)))).status_code
        for day in range(10, 15)
    ]
    assert statuses == [404, 404, 404, 429, 429]
    # The right birth date is refused too while the notice is locked: guessing gains nothing.
    locked = confirm(client, slot, pickup_post(slot))
    assert locked.status_code == 429
    assert "ほど待って" in locked.content.decode()
    assert not Reservation.objects.exists()


def test_guessing_birth_dates_for_a_code_is_stopped(
    city: factories.City, client: Client, settings: Any
) -> None:
    booked = booked_pickup(city, client)
    settings.MADOGUCHI_RATE_LIMITS = {"code": (2, 600)}
    stranger = Client()
    statuses = [
        stranger.post(
            "/lookup/", {"code": booked.code, **birth_fields(dt.date(1980, 5, day))}
        ).status_code
        for day in range(10, 14)
    ]
    assert statuses == [422, 422, 429, 429]


def test_every_spelling_of_one_code_counts_against_one_limit_on_the_lookup_page(
    city: factories.City, client: Client, settings: Any
) -> None:
    booked = booked_pickup(city, client)
    settings.MADOGUCHI_RATE_LIMITS = {"code": (2, 600)}
    code = booked.code
    spellings = [
        code.lower(),
        f"{code[:4]}-{code[4:8]}-{code[8:]}",
        "".join(chr(ord(c) + 0xFEE0) for c in code),
        f"{code[:3]} {code[3:]}",
    ]
    stranger = Client()
    statuses = [
        stranger.post("/lookup/", {"code": s, **birth_fields(dt.date(1980, 5, 18))}).status_code
        for s in spellings
    ]
    assert statuses == [422, 422, 429, 429]
    english = Client(headers={"accept-language": "en"})
    english.cookies["django_language"] = "en"
    page = english.post("/lookup/", {"code": code, **birth_fields(BIRTH)})
    assert page.status_code == 429
    assert "minute" in page.content.decode()


def test_every_spelling_of_one_notice_number_counts_against_one_limit(
    city: factories.City, client: Client, settings: Any
) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {"notice": (2, 600)}
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    spellings = [NOTICE.lower(), f"{NOTICE[:3]}-{NOTICE[3:]}", f"{NOTICE[:5]}-{NOTICE[5:]}"]
    statuses = [
        confirm(
            client, slot, pickup_post(slot, notice_number=s, **birth_fields(dt.date(1980, 5, 11)))
        ).status_code
        for s in spellings
    ]
    assert statuses == [404, 404, 429]


def test_a_second_booking_of_the_same_card_points_at_the_look_up(
    city: factories.City, client: Client
) -> None:
    """The refusal says there is a booking already; the page links to where it can be seen,
    changed or cancelled."""
    factories.notice_card(city.municipality)
    first = factories.slot(city.site, city.pickup)
    assert confirm(client, first, pickup_post(first)).status_code == 302
    second = factories.slot(city.site, city.pickup, time="11:00")

    response = confirm(Client(), second, pickup_post(second))

    assert response.status_code == 409
    html = response.content.decode()
    assert "すでにご予約があります" in html
    assert 'href="/lookup/"' in html
    assert Reservation.objects.count() == 1


@pytest.mark.parametrize(
    ("status", "heading"),
    [
        (ReservationStatus.SERVED, "この予約の手続きは終わりました"),
        (ReservationStatus.NO_SHOW, "この予約の日時は過ぎました"),
    ],
)
def test_an_ended_visit_is_not_shown_as_one_to_come(
    city: factories.City, client: Client, status: str, heading: str
) -> None:
    """A resident looking up a visit that is over (the card handed over, or never collected)
    is told so — not what to bring, to come five minutes early, or to call to change it."""
    booked = booked_pickup(city, client)
    Reservation.objects.filter(pk=booked.pk).update(status=status)
    later = Client()  # looks it up again later (not the page right after booking)
    found = later.post("/lookup/", {"code": booked.code, **birth_fields(BIRTH)})
    page = later.get(found["Location"]).content.decode()
    assert heading in page
    for upcoming in ("当日の持ち物", "5分前までにお越しください", "calendar.ics", "変更・取消"):
        assert upcoming not in page, upcoming
    assert 'href="/book/"' in page  # a new booking is one link away
