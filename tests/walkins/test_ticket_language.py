"""A walk-in ticket in the language it was taken in: the API's `language`, the ticket's page and
its status, the phone page and kiosk, a booked visitor's check-in."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.walkins.kiosks import COOKIE_NAME as KIOSK_COOKIE
from madoguchi.walkins.models import QueueDay, QueueTicket, TicketChannel
from madoguchi.walkins.services import issue_ticket
from tests.frozen_clock import HALL_NOW
from tests.offices.factories import OTHER_LANGUAGES, translated, translations_for
from tests.walkins.conftest import Hall, jst
from tests.walkins.factories import kiosk_cookie

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(HALL_NOW),
    pytest.mark.usefixtures("frozen"),
]

WAITING_MSGID = "お待ちください"


@pytest.fixture(autouse=True)
def no_rate_limits(settings: Any) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {}


SITE = "Main office"
PROCEDURE = "Certificate renewal"


def _names(code: str) -> dict[str, str]:
    return {"site": translated(SITE, code), "procedure": translated(PROCEDURE, code)}


@pytest.fixture
def named_hall(hall: Hall) -> Hall:
    """The hall with its site and procedure named in every offered language."""
    translations_for(hall.site, name=SITE)
    translations_for(hall.cert_renewal, name=PROCEDURE)
    return hall


def take(client: Client, hall: Hall, **body: Any) -> Any:
    return client.post(
        f"/api/v1/sites/{hall.site.pk}/tickets",
        {"procedure": "cert_renewal", **body},
        content_type="application/json",
    )


def in_language(code: str, msgid: str) -> str:
    with translation.override(code):
        return gettext(msgid)


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_a_ticket_taken_in_a_language_is_answered_kept_and_told_in_it(
    client: Client, named_hall: Hall, language: str
) -> None:
    response = take(client, named_hall, language=language)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["language"] == language
    assert body["site_name"] == _names(language)["site"]
    assert body["procedure_name"] == _names(language)["procedure"]
    ticket = QueueTicket.objects.get()
    assert ticket.language == language
    issued = AuditEvent.objects.get(action="ticket.issued")
    assert issued.after["language"] == language
    # its status, asked without any language, answers in the ticket's
    status = client.get(body["status_url"], HTTP_ACCEPT_LANGUAGE="ja").json()
    assert status["language"] == language
    assert status["site_name"] == _names(language)["site"]
    assert status["procedure_name"] == _names(language)["procedure"]
    assert status["status_label"] == in_language(language, WAITING_MSGID)
    assert status["status_label"] != WAITING_MSGID  # every catalogue translates it


def test_without_a_language_the_ticket_is_japanese(client: Client, named_hall: Hall) -> None:
    body = take(client, named_hall).json()
    assert (body["language"], body["site_name"], body["procedure_name"]) == (
        "ja",
        "本庁舎",
        "電子証明書の更新",
    )
    assert QueueTicket.objects.get().language == "ja"
    status = client.get(body["status_url"], HTTP_ACCEPT_LANGUAGE="en").json()
    assert (status["status_label"], status["site_name"]) == (WAITING_MSGID, "本庁舎")


@pytest.mark.parametrize("language", ["klingon", "fr", "en-gb", "ja_JP", " "])
def test_a_language_not_offered_is_422_and_nothing_is_issued(
    client: Client, named_hall: Hall, language: str
) -> None:
    response = take(client, named_hall, language=language)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] in ("invalid_language", "invalid")
    if body["error"] == "invalid_language":
        for code in OTHER_LANGUAGES:
            assert code in body["message"]
    assert not QueueTicket.objects.exists()
    assert not QueueDay.objects.exists()  # no number used up
    assert not AuditEvent.objects.filter(action="ticket.issued").exists()


def test_a_language_code_is_read_in_any_letter_case(client: Client, named_hall: Hall) -> None:
    body = take(client, named_hall, language="ZH_hans").json()
    assert body["language"] == "zh-hans"
    assert QueueTicket.objects.get().language == "zh-hans"


def test_the_refusals_are_in_the_tickets_language(
    client: Client, named_hall: Hall, frozen: time_machine.Traveller
) -> None:
    unknown = take(client, named_hall, procedure="passport", language="ko")
    assert unknown.status_code == 422
    japanese = take(client, named_hall, procedure="passport").json()["message"]
    assert unknown.json()["message"] == in_language("ko", japanese)
    assert unknown.json()["message"] != japanese
    frozen.move_to(jst(18))
    closed = take(client, named_hall, language="en")
    assert closed.status_code == 409
    assert closed.json()["error"] == "site_closed"
    assert closed.json()["message"] != take(client, named_hall).json()["message"]
    assert not any("\u3040" <= ch <= "\u30ff" for ch in closed.json()["message"])


def test_the_ticket_page_speaks_the_tickets_language_until_the_holder_switches(
    client: Client, named_hall: Hall
) -> None:
    page_url = take(client, named_hall, language="ko").json()["status_page_url"]
    page = client.get(page_url, HTTP_ACCEPT_LANGUAGE="ja")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="ko"' in html
    assert _names("ko")["site"] in html
    assert page["Content-Language"] == "ko"
    # the holder chose Japanese with the switch: the cookie wins
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    html = client.get(page_url).content.decode()
    assert '<html lang="ja"' in html and "本庁舎" in html


def test_a_ticket_issued_at_the_counter_follows_the_phone_that_opens_it(
    client: Client, named_hall: Hall
) -> None:
    ticket = issue_ticket(
        site=named_hall.site,
        procedure=named_hall.cert_renewal,
        actor=Actor("staff:1:x"),
        channel=TicketChannel.STAFF,
    )
    assert ticket.language == ""
    for accept, lang in (("vi", "vi"), ("ja", "ja")):
        html = client.get(f"/queue/tickets/{ticket.token}/", HTTP_ACCEPT_LANGUAGE=accept)
        assert f'<html lang="{lang}"' in html.content.decode()
    status = client.get(f"/api/v1/tickets/{ticket.token}", HTTP_ACCEPT_LANGUAGE="vi").json()
    assert (status["language"], status["status_label"]) == ("", WAITING_MSGID)


def test_the_service_refuses_a_language_not_offered(named_hall: Hall) -> None:
    from madoguchi.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        issue_ticket(
            site=named_hall.site,
            procedure=named_hall.cert_renewal,
            actor=Actor.resident(),
            language="xx",
        )
    assert (refused.value.code, refused.value.status) == ("invalid_language", 422)
    assert not QueueTicket.objects.exists()


def test_a_ticket_taken_on_the_phone_page_keeps_the_pages_language(
    client: Client, named_hall: Hall
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
    response = client.post(
        f"/queue/sites/{named_hall.site.pk}/take/",
        {"procedure": named_hall.cert_renewal.pk},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket = QueueTicket.objects.get()
    assert ticket.language == "pt-br"
    status = Client().get(f"/api/v1/tickets/{ticket.token}").json()
    assert status["site_name"] == _names("pt-br")["site"]


def test_a_ticket_taken_at_the_kiosk_keeps_the_kiosks_language_for_the_phone_page(
    client: Client, named_hall: Hall
) -> None:
    """A visitor switches the kiosk to Vietnamese and taps; the QR code on the slip opens the
    ticket's page on their own phone, whatever language that phone asks for, in Vietnamese."""
    client.cookies[KIOSK_COOKIE] = kiosk_cookie(named_hall.site)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    response = client.post(
        f"/queue/sites/{named_hall.site.pk}/kiosk/", {"procedure": named_hall.cert_renewal.pk}
    )
    assert response.status_code == 302
    ticket = QueueTicket.objects.get()
    assert (ticket.channel, ticket.language) == (TicketChannel.KIOSK, "vi")
    phone = Client()
    html = phone.get(f"/queue/tickets/{ticket.token}/", HTTP_ACCEPT_LANGUAGE="ja").content
    assert '<html lang="vi"' in html.decode()
    assert _names("vi")["site"] in html.decode()
