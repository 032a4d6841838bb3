"""The reservations API in the resident's language: a booking's answers (booking, look-up,
change, cancel and their errors) in the booking's language; before a booking is found, in the
request's `language`; Japanese by default; a code not offered is 422 `invalid_language`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import translation
from django.utils.translation import gettext
from ninja.errors import AuthenticationError

from madoguchi.api.urls import INVALID_MESSAGE, NOT_FOUND_MESSAGE, UNAUTHENTICATED_MESSAGE, api
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.reservations.selectors import NOT_FOUND_MESSAGE as NO_BOOKING
from tests.offices.factories import OTHER_LANGUAGES, translated, translations_for
from tests.reservations import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "no_rate_limits")]

BIRTH = "1980-05-17"
LANGUAGES = [code for code, _name in settings.LANGUAGES]
SLOT_FULL = (
    "申し訳ありません。この時間の予約枠はいっぱいです。近い時間の空いている枠からお選びください。"
)
PAST_CUTOFF = (
    "ご予約日の%(days)s日前を過ぎたため、インターネットでは取消・変更できません。"
    "お手数ですが窓口までお電話ください。"
)


def in_language(code: str, msgid: str) -> str:
    """`msgid` as the catalogue of `code` has it; for another language than Japanese, checked
    to be translated (so an answer left in Japanese cannot pass)."""
    with translation.override(code):
        text = gettext(msgid)
    assert (text != msgid) == (code != settings.LANGUAGE_CODE), (code, msgid)
    return text


SITE = "Main office"
PROCEDURE = "Card pick-up"


def names(code: str) -> dict[str, str]:
    return {"site": translated(SITE, code), "procedure": translated(PROCEDURE, code)}


@pytest.fixture
def named(slot: Slot) -> Slot:
    """The slot's site and procedure named in every other offered language."""
    translations_for(slot.site, name=SITE)
    translations_for(slot.procedure, name=PROCEDURE)
    return slot


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def _book(client: Client, slot: Slot, **extra: Any) -> Any:
    body = {
        "slot_id": slot.pk,
        "procedure": "card_pickup",
        "birth_date": BIRTH,
        "notice_number": "ABC123456",
    }
    return _post(client, "/api/v1/reservations", {**body, **extra})


def _expected_names(code: str) -> dict[str, str]:
    if code == settings.LANGUAGE_CODE:
        return {"site": "", "procedure": "カードの受け取り"}
    return names(code)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_booking_is_answered_in_its_language_and_so_is_its_look_up(
    client: Client, named: Slot, language: str
) -> None:
    created = _book(client, named, language=language)
    assert created.status_code == 201, created.content
    body = created.json()
    expected = _expected_names(language)
    assert body["language"] == language
    assert body["procedure_name"] == expected["procedure"]
    if language != settings.LANGUAGE_CODE:
        assert body["site_name"] == expected["site"]
    else:
        assert body["site_name"] == named.site.name
    assert Reservation.objects.get().language == language
    # the look-up names no language: it answers in the booking's
    found = client.get(f"/api/v1/reservations/{body['code']}", {"birth_date": BIRTH}).json()
    assert (found["language"], found["site_name"], found["procedure_name"]) == (
        language,
        body["site_name"],
        body["procedure_name"],
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_full_slot_is_refused_in_the_language_the_booking_names(
    client: Client, slot: Slot, language: str
) -> None:
    full = factories.slot(slot.site, slot.procedure, time="11:00", capacity=1, booked=1)
    response = _book(client, full, language=language)
    assert response.status_code == 409
    assert response.json()["error"] == "slot_full"
    assert response.json()["message"] == in_language(language, SLOT_FULL)
    assert response.json()["alternatives"]  # still offered, whatever the language
    assert not Reservation.objects.exists()


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_changing_and_cancelling_too_late_is_refused_in_the_bookings_language(
    client: Client, slot: Slot, frozen: Any, language: str
) -> None:
    code = _book(client, slot, language=language).json()["code"]
    other = factories.slot(slot.site, slot.procedure, time="14:00")
    frozen.move_to(dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    cutoff = slot.site.municipality.cancellation_cutoff_days
    expected = in_language(language, PAST_CUTOFF) % {"days": cutoff}
    # no language in these requests: the booking's own is used
    cancel = _post(client, f"/api/v1/reservations/{code}/cancel", {"birth_date": BIRTH})
    move = _post(
        client,
        f"/api/v1/reservations/{code}/reschedule",
        {"birth_date": BIRTH, "slot_id": other.pk},
    )
    for response in (cancel, move):
        assert (response.status_code, response.json()["error"]) == (409, "past_cutoff")
        assert response.json()["message"] == expected
    assert Reservation.objects.get(code=code).status == "booked"


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_the_bookings_language_wins_over_the_requests_once_it_is_found(
    client: Client, named: Slot, frozen: Any, language: str
) -> None:
    code = _book(client, named, language=language).json()["code"]
    asked_in_japanese = client.get(
        f"/api/v1/reservations/{code}", {"birth_date": BIRTH, "language": "ja"}
    ).json()
    assert asked_in_japanese["procedure_name"] == names(language)["procedure"]
    frozen.move_to(dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    cancel = _post(
        client, f"/api/v1/reservations/{code}/cancel", {"birth_date": BIRTH, "language": "ja"}
    )
    cutoff = named.site.municipality.cancellation_cutoff_days
    assert cancel.json()["message"] == in_language(language, PAST_CUTOFF) % {"days": cutoff}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_booking_not_found_is_answered_in_the_requests_language(
    client: Client, slot: Slot, language: str
) -> None:
    code = _book(client, slot, language="en").json()["code"]
    expected = in_language(language, NO_BOOKING)
    wrong_birth = client.get(
        f"/api/v1/reservations/{code}", {"birth_date": "1980-05-18", "language": language}
    )
    wrong_cancel = _post(
        client,
        f"/api/v1/reservations/{code}/cancel",
        {"birth_date": "1980-05-18", "language": language},
    )
    for response in (wrong_birth, wrong_cancel):
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": expected}
    # the uniform 404 says nothing of the booking's own language (English here)
    assert Reservation.objects.get(code=code).status == "booked"


@pytest.mark.parametrize("language", LANGUAGES)
def test_invalid_input_and_unknown_addresses_are_answered_in_the_requests_language(
    client: Client, slot: Slot, language: str
) -> None:
    bad_body = _book(client, slot, language=language, birth_date="not a date")
    bad_query = client.get(
        "/api/v1/reservations/AAAAAAAAAA", {"birth_date": "nope", "language": language}
    )
    for response in (bad_body, bad_query):
        assert response.status_code == 422
        assert response.json()["error"] == "invalid"
        assert response.json()["message"] == in_language(language, INVALID_MESSAGE)
    missing = client.get("/api/v1/nothing-here", {"language": language})
    assert missing.json() == {
        "error": "not_found",
        "message": in_language(language, NOT_FOUND_MESSAGE),
    }
    assert not Reservation.objects.exists()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_request_without_sign_in_is_answered_in_the_requests_language(language: str) -> None:
    """The API's answer to an operation that needs a sign-in (ninja's AuthenticationError)
    speaks the request's `language` like its other errors, in the query or the JSON body."""
    factory = RequestFactory()
    asked = (
        factory.get("/api/v1/reservations", {"language": language}),
        factory.post(
            "/api/v1/reservations", {"language": language}, content_type="application/json"
        ),
    )
    for request in asked:
        response = api.on_exception(request, AuthenticationError())
        assert response.status_code == 401
        assert json.loads(response.content) == {
            "error": "unauthenticated",
            "message": in_language(language, UNAUTHENTICATED_MESSAGE),
        }


@pytest.mark.parametrize("language", ["klingon", "fr", "ja-jp", "x" * 20])
def test_a_language_not_offered_is_refused_in_japanese_and_nothing_is_stored(
    client: Client, slot: Slot, language: str
) -> None:
    created = _book(client, slot, language=language)
    code = _book(client, slot).json()["code"]
    looked_up = client.get(
        f"/api/v1/reservations/{code}", {"birth_date": BIRTH, "language": language}
    )
    cancelled = _post(
        client, f"/api/v1/reservations/{code}/cancel", {"birth_date": BIRTH, "language": language}
    )
    slots = client.get(
        f"/api/v1/sites/{slot.site_id}/slots", {"procedure": "card_pickup", "language": language}
    )
    for response in (created, looked_up, cancelled, slots):
        assert response.status_code == 422, response.content
        assert response.json()["error"] == "invalid_language"
        assert "その言語には対応していません" in response.json()["message"]
    assert Reservation.objects.get().status == "booked"  # only the Japanese booking, kept


def test_without_a_language_everything_is_japanese(client: Client, slot: Slot) -> None:
    body = _book(client, slot).json()
    assert body["language"] == "ja" and body["procedure_name"] == "カードの受け取り"
    missing = client.get(f"/api/v1/reservations/{body['code']}", {"birth_date": "1980-05-18"})
    assert missing.json()["message"] == NO_BOOKING
    assert _book(client, slot, birth_date="x").json()["message"] == INVALID_MESSAGE
