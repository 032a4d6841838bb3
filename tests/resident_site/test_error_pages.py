"""A resident who follows a stale link or submits a page gone stale reads why, in the page's
language, with a way back — never the framework's English page nor a note for developers."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.resident_site import factories

pytestmark = pytest.mark.django_db


def test_a_page_not_found_says_so_in_japanese_with_a_way_back(
    city: factories.City, client: Client
) -> None:
    response = client.get("/book/card_pickup/slot/999999/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "お探しのページが見つかりません" in page and 'href="/"' in page
    assert "Not Found" not in page


def test_a_page_not_found_follows_the_residents_language(
    city: factories.City, client: Client
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="en">' in page and "could not be found" in page
    assert "お探しのページ" not in page and "The requested resource" not in page


def test_a_form_submitted_without_its_cookie_says_what_to_do_in_japanese(
    city: factories.City,
) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/lookup/", {"code": "ACDEFGHJKL"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "もう一度" in page and "Cookie" in page
    assert "DEBUG" not in page and "CSRF" not in page


def test_a_request_refused_by_the_framework_says_so_in_japanese(
    city: factories.City, client: Client
) -> None:
    response = client.get("/book/", HTTP_HOST="not-this-site.example")  # not in ALLOWED_HOSTS
    page = response.content.decode()
    assert response.status_code == 400
    assert "受け付けられませんでした" in page and "Bad Request" not in page
