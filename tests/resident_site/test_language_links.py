"""The notice's printed address per language (/lang/<code>/): the card pick-up booking in that
language, kept as the language switch keeps it; a code not offered is refused and kept nowhere."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.resident_site import factories

pytestmark = pytest.mark.django_db

HEADINGS = {
    "ko": 'lang="ko"',
    "vi": 'lang="vi"',
    "zh-hans": 'lang="zh-hans"',
    "pt-br": 'lang="pt-br"',
    "en": 'lang="en"',
    "ja-x-easy": 'lang="ja-x-easy"',
}


@pytest.mark.parametrize("code", sorted(HEADINGS))
def test_the_printed_address_opens_the_pickup_booking_in_its_language(
    city: factories.City, code: str
) -> None:
    client = Client()
    response = client.get(f"/lang/{code.upper()}/")

    assert response.status_code == 302
    assert response["Location"] == "/book/card_pickup/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == code
    page = client.get(response["Location"]).content.decode()
    assert f"<html {HEADINGS[code]}" in page


@pytest.mark.parametrize("code", ["xx", "ja-jp", "<script>"])
def test_a_code_not_offered_is_refused_with_a_message_and_kept_nowhere(
    city: factories.City, code: str
) -> None:
    client = Client()
    response = client.get(f"/lang/{code}/", follow=True)

    assert response.redirect_chain[-1][0] == "/"
    assert "その言語は選べません。一覧から選んでください。" in response.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
