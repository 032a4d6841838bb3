"""A contact for every booking: a card pick-up may leave an e-mail address and a mobile number
(optional, "for the confirmation and the reminder"); bad contacts get a clear Japanese message
and nothing is stored; the confirmation leaves once the booking is committed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from madoguchi.reservations.models import Reservation
from tests.resident_site import factories
from tests.resident_site.factories import birth_fields
from tests.resident_site.test_booking_pages import confirm, identify_url, pickup_post

pytestmark = pytest.mark.django_db

INDIVIDUAL_NUMBER = "1234 5678 9018"  # a 12-digit number with a valid check digit


@pytest.fixture
def pickup_slot(city: factories.City) -> Any:
    factories.notice_card(city.municipality)
    return factories.slot(city.site, city.pickup)


def test_the_pickup_form_offers_an_optional_contact_and_says_what_for(
    client: Client, pickup_slot: Any
) -> None:
    page = client.get(identify_url(pickup_slot)).content.decode()
    assert "予約の確認と前日のお知らせ（任意）" in page
    assert "確認と前日のお知らせのため" in page
    assert 'name="email"' in page and 'name="phone"' in page
    assert "携帯電話番号" in page


def test_a_pickup_without_a_contact_still_books(client: Client, pickup_slot: Any) -> None:
    assert confirm(client, pickup_slot, pickup_post(pickup_slot)).status_code == 302
    booked = Reservation.objects.get()
    assert (booked.email, booked.phone) == ("", "")


def test_a_pickup_with_a_contact_stores_it_and_is_confirmed_after_the_commit(
    client: Client, pickup_slot: Any, sms_outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = pickup_post(pickup_slot, email="Taro@Example.JP", phone="０９０－１２３４－５６７８")
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm(client, pickup_slot, data).status_code == 302
    booked = Reservation.objects.get()
    assert (booked.email, booked.phone) == ("Taro@example.jp", "09012345678")
    (message,) = mail.outbox
    assert message.to == ["Taro@example.jp"] and booked.code in message.body
    (text,) = sms_outbox.messages
    assert text["to"] == "+819012345678" and booked.code in text["body"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "phone",
            "03-1234-5678",
            "携帯電話番号は070・080・090で始まる11桁の数字で入力してください",
        ),
        ("phone", "090-1234", "携帯電話番号は070・080・090で始まる11桁の数字で入力してください"),
        (
            "phone",
            INDIVIDUAL_NUMBER,
            "個人番号（マイナンバー）と思われる12桁の番号が含まれています",
        ),
        ("email", "taro@", "メールアドレスの形が正しくありません"),
        ("email", "123456789018@example.jp", "個人番号（マイナンバー）と思われる12桁の番号"),
    ],
)
def test_a_bad_contact_is_explained_and_nothing_is_stored(
    client: Client, pickup_slot: Any, field: str, value: str, message: str
) -> None:
    response = client.post(identify_url(pickup_slot), pickup_post(pickup_slot, **{field: value}))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Reservation.objects.exists()


def test_other_procedures_keep_any_phone_number_as_their_contact(
    client: Client, city: factories.City
) -> None:
    slot = factories.slot(city.site, city.renewal)
    data = {
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "phone": "03-1234-5678",
        **birth_fields(),
    }
    assert confirm(client, slot, data).status_code == 302
    assert Reservation.objects.get().phone == "0312345678"


def test_the_notice_number_is_still_required_for_a_pickup(client: Client, pickup_slot: Any) -> None:
    response = client.post(
        identify_url(pickup_slot), {**birth_fields(), "email": "taro@example.jp"}
    )
    assert response.status_code == 422
    assert not Reservation.objects.exists()


def test_the_reservation_page_says_where_the_messages_go(client: Client, pickup_slot: Any) -> None:
    data = pickup_post(pickup_slot, email="taro@example.jp", phone="09012345678")
    page = client.get(confirm(client, pickup_slot, data)["Location"]).content.decode()
    assert "予約の確認と予約日の前日のお知らせを、次の連絡先にお送りします。" in page
    assert "taro@example.jp" in page
    assert "090-****-5678" in page and "09012345678" not in page


def test_the_reservation_page_says_when_no_reminder_will_come(
    client: Client, pickup_slot: Any
) -> None:
    page = client.get(confirm(client, pickup_slot, pickup_post(pickup_slot))["Location"])
    assert "前日のお知らせはお送りしません" in page.content.decode()
