"""Names and free texts entered in the admin per language (`offices.models.Translatable`):
the residents' pages, the reservation page, its .ics, the mails and the API show the site's and
the procedure's names, address, access notes and documents in the active (or booked) language,
and the Japanese value where none was entered in it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from madoguchi.core.languages import PACKAGE_DIR, RESIDENT_SOURCES
from madoguchi.offices.models import Procedure
from madoguchi.reservations.models import Reservation
from madoguchi.reservations.visit import documents_to_bring
from tests.offices.factories import translations_for
from tests.resident_site import factories
from tests.resident_site.factories import NOTICE, VISIT_DAY, birth_fields
from tests.resident_site.test_visit_ics_mail import body_of, subject_of

pytestmark = pytest.mark.django_db


NAMES = {
    "en": {
        "site": "Test Ward Office, Main Building",
        "address": "1-1 Chuo, Test Ward",
        "notes": "Five minutes on foot from Test Station",
        "procedure": "Receiving your My Number Card",
        "documents": "The notice、Photo ID",
    },
    "ko": {
        "site": "테스트구청 본청사",
        "address": "테스트구 주오 1-1",
        "notes": "테스트역에서 도보 5분",
        "procedure": "마이넘버카드 수령",
        "documents": "교부통지서、사진이 있는 신분증",
    },
}
JAPANESE_SITE = "みどり本庁舎"
JAPANESE_PROCEDURE = "マイナンバーカードの受け取り"


def _translated_city(city: factories.City) -> factories.City:
    city.site.access_notes = "みどり駅から徒歩5分"

    def each(key: str) -> dict[str, str]:
        return {code: says[key] for code, says in NAMES.items()}

    translations_for(
        city.site, name=each("site"), address=each("address"), access_notes=each("notes")
    )
    translations_for(city.pickup, name=each("procedure"), documents=each("documents"))
    return city


def _client(language: str) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.mark.parametrize("language", list(NAMES))
def test_the_booking_pages_name_the_site_and_procedure_in_the_language_shown(
    city: factories.City, smtp_inbox: Any, django_capture_on_commit_callbacks: Any, language: str
) -> None:
    says = NAMES[language]
    _translated_city(city)
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    client = _client(language)
    pages = {
        "procedures": "/book/",
        "sites": "/book/card_pickup/",
        "month": f"/book/card_pickup/{city.site.pk}/",
        "day": f"/book/card_pickup/{city.site.pk}/{VISIT_DAY.isoformat()}/",
        "form": f"/book/card_pickup/slot/{slot.pk}/",
    }
    for page, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (page, response.status_code)
        html = response.content.decode()
        assert says["procedure"] in html, page
        assert JAPANESE_PROCEDURE not in html, page
        if page != "procedures":
            assert says["site"] in html, page
            assert JAPANESE_SITE not in html, page
    assert says["address"] in client.get(pages["sites"]).content.decode()
    assert says["notes"] in client.get(pages["sites"]).content.decode()

    url = pages["form"]
    data = {"notice_number": NOTICE, **birth_fields(), "email": "hanako@example.jp"}
    confirm = client.post(url, data).content.decode()
    assert "Photo ID" in confirm or "사진이 있는 신분증" in confirm
    token = re.search(r'name="token" value="([^"]+)"', confirm)
    assert token, confirm
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {**data, "step": "confirm", "token": token.group(1)})
    assert done.status_code == 302, done.content.decode()
    booked = Reservation.objects.get(notice_number=NOTICE)
    assert booked.language == language

    reservation = client.get(done["Location"]).content.decode()
    for text in (says["site"], says["procedure"], says["address"], says["notes"]):
        assert text in reservation
    assert JAPANESE_SITE not in reservation and JAPANESE_PROCEDURE not in reservation
    ics = client.get(f"/reservation/{booked.code}/calendar.ics").content.decode("utf-8")
    assert says["procedure"] in ics.replace("\r\n ", "")

    (confirmation,) = smtp_inbox.messages
    assert says["procedure"] in subject_of(confirmation)
    body = body_of(confirmation)
    for text in (says["site"], says["procedure"], says["address"], says["notes"]):
        assert text in body
    assert JAPANESE_SITE not in body and JAPANESE_PROCEDURE not in body


def test_a_language_with_nothing_entered_shows_the_japanese_names(city: factories.City) -> None:
    _translated_city(city)
    slot = factories.slot(city.site, city.pickup)
    html = _client("vi").get(f"/book/card_pickup/slot/{slot.pk}/").content.decode()
    assert JAPANESE_SITE in html and JAPANESE_PROCEDURE in html
    assert NAMES["en"]["site"] not in html


def test_a_blank_entry_falls_back_to_the_japanese_value(city: factories.City) -> None:
    city.site.translations = {"en": {"name": "  "}}
    city.site.full_clean()
    city.site.save()
    assert city.site.localized("name", "en") == JAPANESE_SITE
    assert city.site.localized("name", "ko") == JAPANESE_SITE


def test_the_api_names_the_site_and_procedure_in_the_requested_language(
    city: factories.City,
) -> None:
    _translated_city(city)
    client = Client()
    for language, says in NAMES.items():
        sites = client.get(f"/api/v1/sites?language={language}").json()
        assert [site["name"] for site in sites] == [says["site"]], sites
        procedures = client.get(f"/api/v1/procedures?language={language}").json()
        names = {p["code"]: p["name"] for p in procedures}
        assert names == {"card_pickup": says["procedure"], "cert_renewal": "電子証明書の更新"}
    # no language, or one with nothing entered: the Japanese names; the browser's is not asked
    for query in ("", "?language=vi"):
        sites = client.get(f"/api/v1/sites{query}", HTTP_ACCEPT_LANGUAGE="en").json()
        assert [site["name"] for site in sites] == [JAPANESE_SITE]
    refused = client.get("/api/v1/sites?language=klingon")
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_language"


def test_the_api_names_a_reservation_in_the_language_it_was_booked_in(
    city: factories.City,
) -> None:
    _translated_city(city)
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup)
    client = Client()
    created = client.post(
        "/api/v1/reservations",
        {
            "slot_id": slot.pk,
            "procedure": "card_pickup",
            "birth_date": factories.BIRTH.isoformat(),
            "notice_number": NOTICE,
            "language": "ko",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    code = created.json()["code"]
    shown = client.get(f"/api/v1/reservations/{code}?birth_date={factories.BIRTH.isoformat()}")
    assert shown.status_code == 200, shown.json()
    assert shown.json()["site_name"] == NAMES["ko"]["site"]
    assert shown.json()["procedure_name"] == NAMES["ko"]["procedure"]


@pytest.mark.parametrize(
    "translations",
    [
        {"klingon": {"name": "x"}},
        {"ja": {"name": "本庁舎"}},
        {"en": {"postal_code": "123"}},
        {"en": {"name": 5}},
        {"en": "Main building"},
        ["en"],
    ],
)
def test_translations_with_an_unknown_language_or_field_are_refused(
    city: factories.City, translations: Any
) -> None:
    city.site.translations = translations
    with pytest.raises(ValidationError) as refused:
        city.site.full_clean()
    assert "translations" in refused.value.message_dict


def test_documents_to_bring_are_listed_in_the_language_asked_for() -> None:
    procedure = Procedure(
        documents="交付通知書、本人確認書類",
        proxy_documents="委任状、代理人の本人確認書類",
        translations={"en": {"documents": "The notice、Photo ID"}},
    )
    assert documents_to_bring(procedure, is_proxy=False, language="en") == (
        "The notice",
        "Photo ID",
    )
    # no English proxy list: the Japanese one, never the holder's English list
    assert documents_to_bring(procedure, is_proxy=True, language="en") == (
        "委任状",
        "代理人の本人確認書類",
    )
    with translation.override("ko"):
        assert documents_to_bring(procedure, is_proxy=False) == ("交付通知書", "本人確認書類")


# Templates residents read that show the Japanese value on purpose: the chooser of
# municipalities marks each name lang="ja", the waiting-room board is Japanese with English.
JAPANESE_ON_PURPOSE = {
    "resident_site/templates/resident_site/municipalities.html",
    "queue_board/templates/queue_board/display.html",
}
RAW_FIELD = re.compile(
    r"\b(site|procedure|municipality|closure|counter)\."
    r"(name|address|access_notes|documents|proxy_documents|reason)\b"
)


def test_templates_residents_read_ask_for_the_active_languages_names() -> None:
    """A template in the residents' sources reads `obj.local.<field>`, never the bare field
    (which is the Japanese value): a new page cannot forget the other languages unnoticed."""
    templates = [
        path
        for pattern in RESIDENT_SOURCES
        if pattern.endswith((".html", ".txt"))
        for path in PACKAGE_DIR.glob(pattern)
    ]
    assert len(templates) > 20
    raw = [
        f"{path.relative_to(PACKAGE_DIR)}:{number}: {match.group(0)}"
        for path in templates
        if str(path.relative_to(PACKAGE_DIR)) not in JAPANESE_ON_PURPOSE
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in RAW_FIELD.finditer(line)
    ]
    assert raw == []
