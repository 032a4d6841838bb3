"""The API's short lane past the page middleware: what it skips, and what it must still do."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_api_requests_set_no_cookie_and_keep_the_security_headers(client: Client) -> None:
    client.cookies["sessionid"] = "whatever"
    client.cookies["csrftoken"] = "x" * 32
    response = client.get("/api/v1/procedures")
    assert response.status_code == 200
    assert response.cookies == {}
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "Vary" not in response  # nothing about the answer depends on cookies or language


def test_pages_still_get_the_page_middleware(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Cookie" in response["Vary"] and "Accept-Language" in response["Vary"]
    assert response["Content-Language"] == "ja"


def test_the_host_header_is_still_checked_on_the_api() -> None:
    response = Client(HTTP_HOST="evil.example", raise_request_exception=False).get(
        "/api/v1/procedures"
    )
    assert response.status_code == 400


def test_api_posts_need_no_csrf_token_and_unknown_paths_answer_json_404() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/reservations", {}, content_type="application/json")
    assert response.status_code == 422  # validated, not refused by CSRF
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def _language_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(translation.get_language())


urlpatterns = [path("api/language", _language_view), path("page/language", _language_view)]


@pytest.mark.urls("tests.api.test_api_lane")
def test_api_views_run_in_the_default_language_whatever_the_worker_did_before(
    client: Client,
) -> None:
    translation.activate("en")  # as a previous English page request can leave the thread
    try:
        assert client.get("/api/language").content == b"ja"
        english = client.get("/page/language", HTTP_ACCEPT_LANGUAGE="en")
        assert english.content == b"en"  # pages still follow the browser
    finally:
        translation.deactivate()


@pytest.mark.django_db
def test_api_errors_stay_japanese_for_an_english_browser(client: Client) -> None:
    """docs/contract.md: the API's messages are Japanese by default, whatever the browser asks."""
    response = client.get("/api/v1/sites/999999/queue", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json() == {"error": "site_not_found", "message": "窓口が見つかりません。"}
