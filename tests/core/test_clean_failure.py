"""Clean failure: no input yields a 500. Edge dates, NUL bytes and oversized bodies get a clear
4xx (JSON under /api/), the same on SQLite and PostgreSQL; an unreachable database gets a 503
with Retry-After, and the next request after it is back works."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from django.db import OperationalError, connection
from django.test import Client

from madoguchi.core import clock
from madoguchi.core.models import AuditEvent
from madoguchi.reservations.models import Reservation
from tests.conftest import login_staff

EDGE_DATES = ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"]


def _client() -> Client:
    return Client(raise_request_exception=False)


def _json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] and body["message"]
    return dict(body)


@pytest.fixture
def slot(db: None, frozen: Any) -> Any:
    from tests.offices import factories as offices
    from tests.reservations import factories

    city = offices.municipality()
    renewal = offices.procedure("cert_renewal", proxy_allowed=True)
    pickup = offices.procedure("card_pickup")
    site = offices.site(city)
    site.procedures.set([renewal, pickup])
    return factories.slot(site, renewal, capacity=2)


@pytest.mark.parametrize("day", EDGE_DATES)
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/sites/{site}/slots?procedure=cert_renewal&date_from={day}",
        "/api/v1/sites/{site}/slots?procedure=cert_renewal&date_to={day}",
        "/api/v1/sites/{site}/slots?procedure=cert_renewal&date_from={day}&date_to={day}",
        "/api/v1/reservations/ACDEFGHJKL?birth_date={day}",
    ],
)
def test_edge_dates_in_api_queries_get_a_json_4xx(slot: Any, url: str, day: str) -> None:
    response = _client().get(url.format(site=slot.site_id, day=day))
    _json_error(response, 422)


@pytest.mark.parametrize("day", EDGE_DATES)
def test_edge_birth_dates_in_a_booking_get_a_json_422(slot: Any, day: str) -> None:
    body = {
        "slot_id": slot.pk,
        "procedure": "cert_renewal",
        "birth_date": day,
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "email": "hanako@example.jp",
    }
    response = _client().post("/api/v1/reservations", body, content_type="application/json")
    _json_error(response, 422)
    assert not Reservation.objects.exists()


@pytest.mark.parametrize("day", EDGE_DATES)
def test_edge_dates_on_the_staff_day_view_and_phone_booking_get_a_4xx(
    personas: Any, day: str
) -> None:
    client = _client()
    login_staff(client, personas.users["manager"])
    site = personas.sites["a"]
    for url in (
        f"/staff/sites/{site.pk}/?day={day}",
        f"/staff/sites/{site.pk}/phone-booking/?day={day}",
    ):
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("day", EDGE_DATES)
def test_edge_dates_in_resident_page_urls_get_a_4xx(slot: Any, day: str) -> None:
    response = _client().get(f"/book/cert_renewal/sites/{slot.site_id}/{day}/")
    assert 400 <= response.status_code < 500


def test_negative_control_an_ordinary_day_is_served(personas: Any, frozen: Any) -> None:
    client = _client()
    login_staff(client, personas.users["manager"])
    today = clock.today().isoformat()  # the frozen day: never the machine's own date
    assert client.get(f"/staff/sites/{personas.sites['a'].pk}/?day={today}").status_code == 200


NUL_FIELDS = ["email", "phone", "family_name_kana", "given_name_kana", "notice_number", "procedure"]


@pytest.mark.parametrize("field", NUL_FIELDS)
@pytest.mark.parametrize("nul", ["\x00", "ab\x00cd"])
def test_a_nul_byte_in_any_api_field_is_refused_before_anything_is_stored(
    slot: Any, field: str, nul: str
) -> None:
    body = {
        "slot_id": slot.pk,
        "procedure": "cert_renewal",
        "birth_date": "1980-05-17",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "email": "hanako@example.jp",
    }
    body[field] = nul
    events = AuditEvent.objects.count()
    response = _client().post("/api/v1/reservations", body, content_type="application/json")
    assert _json_error(response, 400)["error"] == "invalid_character"
    assert not Reservation.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/reservations/{nul}?birth_date=1980-05-17",
        "/api/v1/sites/{site}/slots?procedure={nul}",
        "/api/v1/sites/{site}/slots?procedure=cert_renewal&date_from={nul}",
    ],
)
def test_a_nul_byte_in_an_api_path_or_query_is_refused(slot: Any, url: str) -> None:
    response = _client().get(url.format(site=slot.site_id, nul=quote("a\x00b")))
    assert _json_error(response, 400)["error"] == "invalid_character"


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/lookup/", {"code": "ACDE\x00FGHJKL"}),
        ("/lookup/", {"code": "ACDEFGHJKL", "birth_date_year": "1980\x00"}),
    ],
)
def test_a_nul_byte_in_a_resident_form_is_refused_with_a_page(
    slot: Any, url: str, data: dict[str, str]
) -> None:
    response = _client().post(url, data)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("charset", ["shift_jis", "euc-jp"])
def test_a_form_declared_in_another_charset_gets_a_400_page(slot: Any, charset: str) -> None:
    """Django reads a form only as UTF-8 and refuses another declared charset; that refusal
    reached the visitor as the 500 page (found posting the look-up form as Shift_JIS): its 400
    page's CSRF decorator read the form again and failed — so the CSRF check is on here, as
    in a browser."""
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get("/lookup/").text)
    assert token, "the form's CSRF token"
    # the test client encodes the body in `charset`
    body = f"csrfmiddlewaretoken={token.group(1)}&code=ＡＢＣ&birth_date_year=1980"
    for url in ("/lookup/", "/queue/"):
        response = browser.post(
            url, body, content_type=f"application/x-www-form-urlencoded; charset={charset}"
        )
        assert response.status_code == 400, (url, response.status_code)
        assert response["Content-Type"].startswith("text/html")
        assert "リクエストの形式が正しくありません。" in response.content.decode()


def test_negative_control_a_form_declared_utf_8_is_read(slot: Any) -> None:
    response = _client().post(
        "/lookup/",
        b"code=ACDEFGHJKL",
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
    )
    assert response.status_code == 422  # the form's own answer: the birth date is missing


def test_a_nul_byte_in_a_staff_form_is_refused(personas: Any) -> None:
    client = _client()
    login_staff(client, personas.users["manager"])
    site = personas.sites["a"]
    response = client.post(
        f"/staff/sites/{site.pk}/phone-booking/", {"family_name_kana": "ヤマ\x00ダ"}
    )
    assert response.status_code == 400
    assert not Reservation.objects.exists()


def test_a_nul_byte_in_a_cookie_is_refused(db: None) -> None:
    client = _client()
    client.cookies["sessionid"] = "abc\x00def"
    assert client.get("/lookup/").status_code == 400


def test_an_oversized_api_body_gets_a_json_413(slot: Any, settings: Any) -> None:
    big = b'{"x": "' + b"a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}'
    response = _client().post("/api/v1/reservations", big, content_type="application/json")
    assert _json_error(response, 413)["error"] == "request_too_large"


def test_an_oversized_form_gets_a_413_page(slot: Any, settings: Any) -> None:
    response = _client().post(
        "/lookup/", {"code": "A" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")


def test_negative_control_a_body_under_the_limit_is_read(slot: Any) -> None:
    response = _client().post("/api/v1/reservations", {}, content_type="application/json")
    assert _json_error(response, 422)["error"] == "invalid"


def test_a_database_error_in_an_api_view_is_a_json_503_with_retry_after(
    slot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr("madoguchi.api.public.active_sites", unreachable)
    response = _client().get("/api/v1/sites")
    assert _json_error(response, 503)["error"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0
    monkeypatch.undo()
    assert _client().get("/api/v1/sites").status_code == 200


def test_a_database_error_on_a_page_is_a_503_page_with_retry_after(
    slot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr("madoguchi.resident_site.views.site_hours", unreachable)
    response = _client().get("/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "待ってから" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_with_the_database_unreachable_the_api_answers_503_and_recovers_by_itself() -> None:
    """The real thing: the connection settings point at a database that cannot be reached
    (a closed PostgreSQL port; on SQLite a file in a directory that does not exist)."""
    settings_dict = connection.settings_dict
    saved = dict(settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        settings_dict["PORT"] = "1"  # nothing listens there
        settings_dict["HOST"] = "127.0.0.1"
    else:
        settings_dict["NAME"] = "/nonexistent-directory/madoguchi.sqlite3"
    try:
        down = _client().get("/api/v1/procedures")
        page = _client().get("/lookup/", {"code": "x"})
    finally:
        connection.close()
        settings_dict.update(saved)
    assert _json_error(down, 503)["error"] == "service_unavailable"
    assert int(down["Retry-After"]) > 0
    assert page.status_code in (200, 503)  # the look-up form itself needs no database
    back = _client().get("/api/v1/procedures")
    assert back.status_code == 200


REFUSED_PAGES = {
    "a NUL byte in the query": ("get", "/lookup/?code=%00", {}, 400),
    "a NUL byte in a form": ("post", "/lookup/", {"code": "A\x00"}, 400),
    "an oversized form": ("post", "/lookup/", {"code": "A" * (2_700_000)}, 413),
}


@pytest.mark.parametrize("case", sorted(REFUSED_PAGES))
@pytest.mark.parametrize("by", ["cookie", "accept-language"])
def test_a_refused_page_is_in_the_visitors_language(
    slot: Any, case: str, by: str, settings: Any
) -> None:
    """The guard runs before LocaleMiddleware has chosen the language: it chooses it itself
    (the thread's language before the request is the default, as in a fresh server thread)."""
    from django.utils import translation

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_500_000
    method, url, data, status = REFUSED_PAGES[case]
    client = _client()
    headers = {}
    if by == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    else:
        headers["HTTP_ACCEPT_LANGUAGE"] = "ko-KR,ko;q=0.9"
    translation.activate(settings.LANGUAGE_CODE)
    response = getattr(client, method)(url, data, **headers)
    page = response.content.decode()
    assert response.status_code == status
    assert '<html lang="ko">' in page
    assert not any("\u3040" <= ch <= "\u30ff" for ch in page), page  # no kana left


def test_a_refused_staff_page_is_japanese_for_a_residents_language_staff_pages_lack(
    personas: Any, settings: Any
) -> None:
    from django.utils import translation

    client = _client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    translation.activate("ko")
    response = client.get("/staff/?q=%00")
    assert response.status_code == 400
    assert '<html lang="ja">' in response.content.decode()


def test_a_refused_api_request_answers_in_japanese_whatever_the_browser_asks(slot: Any) -> None:
    response = _client().get("/api/v1/sites?x=%00", HTTP_ACCEPT_LANGUAGE="ko")
    assert "NUL文字" in _json_error(response, 400)["message"]
