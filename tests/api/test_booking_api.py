"""The public JSON API, as docs/contract.md describes it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from ninja import main as ninja_main
from ninja.openapi.schema import get_schema

from madoguchi.api import urls as api_urls
from madoguchi.offices.models import Site
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.reservations.selectors import NOT_FOUND_MESSAGE
from tests.reservations import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
BIRTH = "1980-05-17"


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


def test_lists_procedures_sites_and_slots(client: Client, slot: Slot) -> None:
    procedures = client.get("/api/v1/procedures").json()
    assert {"code": "card_pickup", "name": "カードの受け取り", "duration_minutes": 20} in procedures
    (site,) = client.get("/api/v1/sites").json()
    assert site["id"] == slot.site_id and "card_pickup" in site["procedures"]
    slots = client.get(
        f"/api/v1/sites/{slot.site_id}/slots",
        {"procedure": "card_pickup", "date_from": "2026-12-07", "date_to": "2026-12-07"},
    ).json()
    assert slots == [
        {
            "id": slot.pk,
            "starts_at": "2026-12-07T10:00:00+09:00",
            "ends_at": "2026-12-07T10:20:00+09:00",
            "remaining": 2,
        }
    ]


def test_book_look_up_reschedule_and_cancel(client: Client, slot: Slot) -> None:
    created = _book(client, slot)
    assert created.status_code == 201, created.content
    code = created.json()["code"]
    assert created.json()["site_id"] == slot.site_id
    detail = client.get(f"/api/v1/reservations/{code.lower()}", {"birth_date": BIRTH})
    assert detail.status_code == 200 and detail.json()["status"] == "booked"
    other = factories.slot(slot.site, slot.procedure, time="14:00")
    moved = _post(
        client,
        f"/api/v1/reservations/{code}/reschedule",
        {"birth_date": BIRTH, "slot_id": other.pk},
    )
    assert moved.status_code == 200 and moved.json()["slot_id"] == other.pk
    cancelled = _post(client, f"/api/v1/reservations/{code}/cancel", {"birth_date": BIRTH})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_a_wrong_code_and_a_wrong_birth_date_get_the_same_404(client: Client, slot: Slot) -> None:
    code = _book(client, slot).json()["code"]
    wrong_birth = client.get(f"/api/v1/reservations/{code}", {"birth_date": "1980-05-18"})
    wrong_code = client.get("/api/v1/reservations/AAAAAAAAAA", {"birth_date": BIRTH})
    unknown_notice = _book(client, slot, notice_number="QQQ999999")
    assert wrong_birth.status_code == wrong_code.status_code == unknown_notice.status_code == 404
    assert wrong_birth.json() == wrong_code.json() == unknown_notice.json()
    assert wrong_birth.json() == {"error": "not_found", "message": NOT_FOUND_MESSAGE}


def test_a_full_slot_answers_409_with_alternatives(client: Client, slot: Slot) -> None:
    Slot.objects.filter(pk=slot.pk).update(booked=2)
    free = factories.slot(slot.site, slot.procedure, time="11:00")
    response = _book(client, slot)
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "slot_full" and body["message"]
    assert [a["id"] for a in body["alternatives"]] == [free.pk]


def test_validation_errors_are_json_in_the_house_shape(client: Client, slot: Slot) -> None:
    response = _post(client, "/api/v1/reservations", {"slot_id": "x", "procedure": "card_pickup"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid" and body["message"]
    assert {d["field"] for d in body["details"]} >= {"slot_id", "birth_date"}


def test_malformed_json_and_unknown_urls_answer_json(client: Client, slot: Slot) -> None:
    bad = client.post("/api/v1/reservations", "{not json", content_type="application/json")
    assert bad.status_code in (400, 422) and "error" in bad.json()
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong_method = client.delete("/api/v1/procedures")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
    assert "GET" in wrong_method["Allow"]


def test_an_individual_number_is_refused_with_a_clear_message(client: Client, slot: Slot) -> None:
    response = _book(client, slot, notice_number="123456789018")
    assert response.status_code == 422
    assert response.json()["error"] == "individual_number"
    assert "個人番号" in response.json()["message"]


def test_an_individual_number_as_a_reservation_code_is_refused_not_looked_up(
    client: Client, slot: Slot
) -> None:
    response = client.get("/api/v1/reservations/１２３４５６７８９０１８", {"birth_date": BIRTH})
    assert (response.status_code, response.json()["error"]) == (422, "individual_number")


def test_full_width_notice_numbers_and_a_double_submit_book_once(
    client: Client, slot: Slot
) -> None:
    first = _book(client, slot, notice_number="ａｂｃ－１２３４５６")
    again = _book(client, slot)
    assert first.status_code == again.status_code == 201
    assert first.json()["code"] == again.json()["code"]
    assert Reservation.objects.count() == 1


def test_outside_the_window_is_422(client: Client, slot: Slot) -> None:
    soon = factories.slot(slot.site, slot.procedure, day=dt.date(2026, 12, 2))
    response = _book(client, soon)
    assert (response.status_code, response.json()["error"]) == (422, "outside_window")


def test_cancelling_after_the_cutoff_is_409(client: Client, slot: Slot, frozen: Any) -> None:
    code = _book(client, slot).json()["code"]
    frozen.move_to(dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    response = _post(client, f"/api/v1/reservations/{code}/cancel", {"birth_date": BIRTH})
    assert (response.status_code, response.json()["error"]) == (409, "past_cutoff")


def test_a_family_books_in_one_request(client: Client, slot: Slot) -> None:
    factories.card(slot.site.municipality, "ABC000002", birth=dt.date(2015, 1, 1))
    response = _book(
        client, slot, family_members=[{"birth_date": "2015-01-01", "notice_number": "ABC000002"}]
    )
    assert response.status_code == 201
    assert len(response.json()["member_codes"]) == 2


def test_guessing_birth_dates_for_one_code_is_rate_limited(
    client: Client, slot: Slot, settings: Any
) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {"code": (3, 600)}
    statuses = [
        client.get("/api/v1/reservations/AAAAAAAAAA", {"birth_date": f"1980-01-0{n}"}).status_code
        for n in range(1, 6)
    ]
    assert statuses == [404, 404, 404, 429, 429]
    limited = client.get("/api/v1/reservations/AAAAAAAAAA", {"birth_date": "1980-01-01"})
    assert limited.json()["error"] == "rate_limited" and limited["Retry-After"]


def test_requests_per_ip_are_rate_limited(client: Client, slot: Slot, settings: Any) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {"ip": (2, 60)}
    assert [client.get("/api/v1/procedures").status_code for _ in range(3)] == [200, 200, 429]


def test_openapi_document_is_served(client: Client, db: None) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/reservations" in schema["paths"]


def test_the_openapi_document_is_built_once_per_prefix_and_names_its_doors_paths(
    client: Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The document is kept (api.urls.DescribedOnceAPI): asked again it is the same without
    being built again, and a municipality's door (`/m/<code>/`) gets its own, naming its paths."""
    built: list[str] = []

    def counted(*, api: Any, path_prefix: str) -> Any:
        built.append(path_prefix)
        return get_schema(api=api, path_prefix=path_prefix)

    monkeypatch.setattr(ninja_main, "get_schema", counted)
    monkeypatch.setattr(api_urls.api, "_described", {})
    door = f"/m/{site.municipality.code}"
    plain = client.get("/api/v1/openapi.json").json()
    through_door = client.get(f"{door}/api/v1/openapi.json").json()
    assert client.get("/api/v1/openapi.json").json() == plain
    assert client.get(f"{door}/api/v1/openapi.json").json() == through_door
    assert built == ["/api/v1/", f"{door}/api/v1/"]
    assert "/api/v1/reservations" in plain["paths"]
    assert f"{door}/api/v1/reservations" in through_door["paths"]
    assert {p.removeprefix(door) for p in through_door["paths"]} == set(plain["paths"])


INDIVIDUAL_NUMBER_SPELLINGS = [
    "1234.5678.9018",
    "1234_5678_9018",
    "123456-789018",
    "1234\u20105678\u20109018",
    "１２３４　５６７８　９０１８",
]


@pytest.mark.parametrize("spelling", INDIVIDUAL_NUMBER_SPELLINGS)
@pytest.mark.parametrize(
    ("field", "template"),
    [
        ("email", "{}@example.jp"),
        ("phone", "{}"),
        ("family_name_kana", "ヤマダ{}"),
        ("given_name_kana", "{}"),
        ("notice_number", "{}"),
    ],
)
def test_every_text_field_refuses_every_spelling_before_anything_is_stored(
    client: Client, slot: Slot, field: str, template: str, spelling: str
) -> None:
    from madoguchi.core.models import AuditEvent

    events = AuditEvent.objects.count()
    response = _book(client, slot, **{field: template.format(spelling)})
    assert (response.status_code, response.json()["error"]) == (422, "individual_number")
    assert not Reservation.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("spelling", INDIVIDUAL_NUMBER_SPELLINGS)
def test_a_family_member_carrying_a_number_is_refused(
    client: Client, slot: Slot, spelling: str
) -> None:
    member = {"birth_date": str(BIRTH), "email": f"{spelling}@example.jp"}
    response = _book(client, slot, family_members=[member])
    assert (response.status_code, response.json()["error"]) == (422, "individual_number")


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else "\u3000" for c in text)


CODE_SPELLINGS = [
    "ACDEFGHJKL",
    "acde-fghj-kl",
    _full_width("ACDE FGHJ KL"),
    "ACDE\u2010FGHJ\u2010KL",
    "acd efg hjk l",
]
NOTICE_SPELLINGS = [
    "ABC-123456",
    "ABC12-34-56",
    "abc 123456",
    _full_width("ABC123456"),
    "abc・123・456",
]


def test_every_spelling_of_one_booking_code_counts_against_one_limit(
    client: Client, slot: Slot, settings: Any
) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {"code": (3, 600)}
    statuses = [
        client.get(f"/api/v1/reservations/{quote(s)}", {"birth_date": BIRTH}).status_code
        for s in CODE_SPELLINGS
    ]
    assert statuses == [404, 404, 404, 429, 429]


def test_negative_control_different_booking_codes_count_separately(
    client: Client, slot: Slot, settings: Any
) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {"code": (3, 600)}
    codes = ["ACDEFGHJKL", "CDEFGHJKLM", "DEFGHJKLMN", "EFGHJKLMNP", "FGHJKLMNPQ"]
    statuses = [
        client.get(f"/api/v1/reservations/{c}", {"birth_date": BIRTH}).status_code for c in codes
    ]
    assert statuses == [404] * 5


def test_every_spelling_of_one_notice_number_counts_against_one_limit(
    client: Client, slot: Slot, settings: Any
) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {"notice": (3, 600)}
    statuses = [
        _book(client, slot, notice_number=s, birth_date="1980-01-01").status_code
        for s in NOTICE_SPELLINGS
    ]
    assert statuses == [404, 404, 404, 429, 429]
    limited = _book(client, slot, notice_number="ABC123456")
    assert limited.status_code == 429
    wait_seconds = int(limited["Retry-After"])
    assert 0 < wait_seconds <= 600
    minutes = -(-wait_seconds // 60)
    assert f"{minutes}分ほど待ってから" in limited.json()["message"]
    assert not Reservation.objects.exists()


def test_a_card_pickup_may_leave_a_contact(client: Client, slot: Slot) -> None:
    response = _book(client, slot, email="Taro@Example.JP", phone="090-1234-5678")
    assert response.status_code == 201, response.content
    booked = Reservation.objects.get()
    assert (booked.email, booked.phone) == ("Taro@example.jp", "09012345678")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("email", "taro@", "invalid_email"),
        ("phone", "090-1234", "invalid_phone"),
        ("email", "123456789018@example.jp", "individual_number"),
        ("phone", "1234-5678-9018", "individual_number"),
    ],
)
def test_a_bad_contact_is_refused_and_nothing_is_stored(
    client: Client, slot: Slot, field: str, value: str, code: str
) -> None:
    response = _book(client, slot, **{field: value})
    assert response.status_code == 422
    assert response.json()["error"] == code
    assert response.json()["message"]
    assert not Reservation.objects.exists()


def test_a_booking_keeps_the_language_asked_for_and_japanese_when_none_is(
    client: Client, slot: Slot
) -> None:
    default = _book(client, slot)
    assert default.status_code == 201, default.content
    assert Reservation.objects.get(code=default.json()["code"]).language == "ja"
    other = factories.card(slot.site.municipality, "ABC123457")
    asked = _book(client, slot, notice_number=other.notice_number, language="pt-BR")
    assert asked.status_code == 201, asked.content
    assert Reservation.objects.get(code=asked.json()["code"]).language == "pt-br"


@pytest.mark.parametrize("language", ["xx", "english", "ja-jp", "zh"])
def test_an_unknown_language_is_refused_with_the_codes_offered_and_nothing_stored(
    client: Client, slot: Slot, language: str
) -> None:
    refused = _book(client, slot, language=language)

    assert refused.status_code == 422, refused.content
    answer = refused.json()
    assert answer["error"] == "invalid_language"
    assert answer["message"].startswith("その言語には対応していません。")
    assert "ja, ja-x-easy, en, zh-hans, ko, vi, pt-br" in answer["message"]
    assert not Reservation.objects.exists()
    slot.refresh_from_db()
    assert slot.booked == 0


BOOKING_POSTS = [
    "/api/v1/reservations",
    "/api/v1/reservations/NOCODE/cancel",
    "/api/v1/reservations/NOCODE/reschedule",
    "/api/v1/sites/1/tickets",
]
"""Every API endpoint that reads a JSON body."""


@pytest.mark.parametrize("url", BOOKING_POSTS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_refused_as_such_and_books_nothing(
    client: Client, slot: Slot, url: str, content_type: str
) -> None:
    """A JSON body under another Content-Type (what a cross-site form can send without asking)
    is not read: 415 naming the type the API takes."""
    body = json.dumps({"slot_id": slot.pk, "procedure": "card_pickup", "birth_date": BIRTH})
    response = client.post(url, body, content_type=content_type)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert "application/json" in response.json()["message"]
    english = client.post(f"{url}?language=en", body, content_type=content_type)
    assert english.json()["message"].startswith("Send the body as JSON")
    assert not Reservation.objects.exists()


def test_a_key_given_twice_is_refused_naming_it_not_read_as_the_last(
    client: Client, slot: Slot
) -> None:
    body = (
        f'{{"slot_id": {slot.pk}, "procedure": "card_pickup", "birth_date": "1990-01-01",'
        f' "notice_number": "ABC123456", "birth_date": "{BIRTH}"}}'
    )
    response = client.post("/api/v1/reservations", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "repeated_key"
    assert "birth_date" in response.json()["message"]
    assert not Reservation.objects.exists()
    nested = (
        f'{{"slot_id": {slot.pk}, "procedure": "card_pickup", "birth_date": "{BIRTH}",'
        ' "notice_number": "ABC123456", "family_members": [{"birth_date": "2010-01-01",'
        ' "birth_date": "2011-01-01"}]}'
    )
    response = client.post("/api/v1/reservations", nested, content_type="application/json")
    assert (response.status_code, response.json()["error"]) == (400, "repeated_key")


@pytest.mark.parametrize(
    ("field", "value"),
    [("slot_id", True), ("is_proxy", "yes"), ("birth_date", 0), ("birth_date", 86400.0)],
)
def test_a_value_of_another_json_type_is_refused_not_converted(
    client: Client, slot: Slot, field: str, value: object
) -> None:
    """`true` is not slot 1, "yes" is not a boolean and 86400 is not a date (it was read as
    seconds since 1970: 2 January 1970): the contract types them."""
    response = _book(client, slot, **{field: value})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["details"]] == [field]
    assert not Reservation.objects.exists()


@pytest.mark.parametrize("text", ["86400", "1811980800", "1980-05-17T00:00", "1980-05-17 00:00Z"])
def test_a_date_is_only_ever_read_from_year_month_day_text(
    client: Client, slot: Slot, text: str
) -> None:
    """A date sent as text must be YYYY-MM-DD: "86400" was read as seconds since 1970 (a
    resident born 2 January 1970) and a datetime at midnight as its date."""
    response = _book(client, slot, birth_date=text)
    assert response.status_code == 422, response.content
    assert [d["field"] for d in response.json()["details"]] == ["birth_date"]
    assert not Reservation.objects.exists()
    lookup = client.get("/api/v1/reservations/ABCD2345", {"birth_date": text})
    assert lookup.status_code == 422
    for field in ("date_from", "date_to"):
        listed = client.get(
            f"/api/v1/sites/{slot.site_id}/slots", {"procedure": "card_pickup", field: text}
        )
        assert listed.status_code == 422, listed.content
        assert [d["field"] for d in listed.json()["details"]] == [field]


def test_slots_asked_for_backwards_dates_are_refused_with_a_message(
    client: Client, slot: Slot
) -> None:
    """date_to before date_from answered an empty list, as if every time were taken."""
    response = client.get(
        f"/api/v1/sites/{slot.site_id}/slots",
        {"procedure": "card_pickup", "date_from": "2026-12-08", "date_to": "2026-12-07"},
    )
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["details"]] == ["date_to"]
    same_day = client.get(
        f"/api/v1/sites/{slot.site_id}/slots",
        {"procedure": "card_pickup", "date_from": "2026-12-07", "date_to": "2026-12-07"},
    )
    assert [s["id"] for s in same_day.json()] == [slot.pk]


def test_a_body_that_is_not_json_is_explained_in_the_language_asked_for(
    client: Client, slot: Slot
) -> None:
    """The malformed-body answer was always Japanese, whatever `language` the request gave."""
    english = client.post(
        "/api/v1/reservations?language=en", "{not json", content_type="application/json"
    )
    assert (english.status_code, english.json()["error"]) == (400, "bad_request")
    assert english.json()["message"] == "The request is not in a form we can read."
    japanese = client.post("/api/v1/reservations", "{not json", content_type="application/json")
    assert japanese.json()["message"] == "リクエストの形式が正しくありません。"
    assert not Reservation.objects.exists()
