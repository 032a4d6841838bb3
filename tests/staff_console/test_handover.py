"""The hand-over screen: the card record beside the form; the card handed over and the visit
(booking and queue ticket) closed, all or nothing; refusals keep what was typed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.issuance.models import CardHandOver, CardRecord, CardStatus
from madoguchi.offices.models import Counter
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins import visits
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.services import call_next_ticket, check_in_booked_visitor
from tests.conftest import login_staff
from tests.resident_site import factories
from tests.resident_site.factories import NOTICE, VISIT_DAY

pytestmark = pytest.mark.django_db

ON_THE_DAY = clock.at(VISIT_DAY, dt.time(9, 55))
HOLDER: dict[str, Any] = {
    "is_proxy": "0",
    "id_documents": ["passport"],
    "old_card": "punched",
    "pin_setting": "holder",
    "e_certificates": "both",
    "identity_checked": "on",
}
PROXY: dict[str, Any] = {
    "is_proxy": "1",
    "proxy_reason": "hospital_care",
    "proxy_documents": ["delegation", "reason_proof", "holder_id", "proxy_id"],
    "id_documents": ["health_insurance", "pension"],
    "old_card": "punched",
    "pin_setting": "inquiry_form",
    "e_certificates": "user_auth",
    "identity_checked": "on",
}


def worker(city: factories.City, role: str = Role.OFFICIAL) -> tuple[StaffUser, Client]:
    user = StaffUser.objects.create_user(
        f"{role}-desk", password="x", role=role, municipality=city.municipality
    )
    user.sites.set([city.site])
    client = Client()
    login_staff(client, user)
    return user, client


@pytest.fixture
def booked(city: factories.City, frozen: Any) -> Reservation:
    reservation = factories.book_card_pickup(city)
    frozen.move_to(ON_THE_DAY)
    return reservation


@pytest.fixture
def checked_in(city: factories.City, booked: Reservation) -> Reservation:
    """Checked in and called to the first counter (the hand-over happens at a counter)."""
    check_in_booked_visitor(code=booked.code, actor=Actor.system("test"))
    counter = Counter.objects.filter(site=city.site).order_by("pk").first()
    assert counter is not None
    call_next_ticket(site=city.site, counter=counter, actor=Actor.system("test"))
    booked.refresh_from_db()
    return booked


def card() -> CardRecord:
    return CardRecord.objects.get(notice_number=NOTICE)


def url(reservation: Reservation) -> str:
    return f"/staff/reservations/{reservation.code}/hand-over/"


def page_after(client: Client, reservation: Reservation, data: dict[str, Any]) -> str:
    return client.post(url(reservation), data, follow=True).content.decode()


def test_the_day_view_links_the_hand_over_screen_which_shows_the_card_record(
    city: factories.City, checked_in: Reservation
) -> None:
    _, client = worker(city)
    page = client.get(f"/staff/sites/{city.site.pk}/?day={VISIT_DAY}").content.decode()
    assert f'href="{url(checked_in)}"' in page
    assert "山田　花子" in page  # the holder's name from the card record

    screen = client.get(url(checked_in)).content.decode()
    for shown in (
        "山田　花子",
        "ヤマダ　ハナコ",
        "1980年5月17日",
        "〒123-4567 みどり市中央一丁目2番3号",
    ):
        assert shown in screen
    assert f'action="{url(checked_in)}"' in screen
    for choice in ("長期入院・介護施設への入所", "運転免許証", "穴を開けて", "照会書", "署名用"):
        assert choice in screen


def test_an_official_hands_over_the_card_and_the_visit_is_served(
    city: factories.City, checked_in: Reservation
) -> None:
    official, client = worker(city)
    page = page_after(client, checked_in, PROXY)

    assert "カードを交付し、完了にしました" in page
    handed = card()
    assert handed.status == CardStatus.HANDED_OVER
    assert handed.is_proxy is True
    assert handed.id_document_class == "two_other"
    assert handed.handed_over_by == official
    record = CardHandOver.objects.get(card=handed)
    assert record.proxy_reason == "hospital_care"
    assert sorted(record.proxy_documents) == sorted(PROXY["proxy_documents"])
    assert record.pin_setting == "inquiry_form"
    checked_in.refresh_from_db()
    assert checked_in.status == ReservationStatus.SERVED
    assert QueueTicket.objects.get(reservation=checked_in).status == TicketStatus.DONE
    event = AuditEvent.objects.get(action="card.hand_over", subject_id=str(handed.pk))
    assert event.actor.startswith(f"staff:{official.pk}:")
    assert (event.after or {})["proxy_reason"] == "hospital_care"
    assert AuditEvent.objects.filter(
        action="reservation.serve", subject_id=checked_in.code
    ).exists()


def test_a_holder_hand_over_records_no_proxy_reason(
    city: factories.City, checked_in: Reservation
) -> None:
    _, client = worker(city)
    page_after(client, checked_in, HOLDER)
    handed = card()
    assert handed.is_proxy is False
    assert handed.id_document_class == "one_photo"
    event = AuditEvent.objects.get(action="card.hand_over", subject_id=str(handed.pk))
    assert "proxy_reason" not in (event.after or {})


def test_a_contractor_is_refused_where_an_official_must_decide_and_nothing_changes(
    city: factories.City, checked_in: Reservation
) -> None:
    _, client = worker(city, Role.CONTRACTOR)
    events = AuditEvent.objects.count()

    response = client.post(url(checked_in), HOLDER)

    assert response.status_code == 403  # the access rule: one status for every refusal
    page = response.content.decode()
    assert "交付の決定（代理人の場合はその可否の判断も）は市区町村の職員が行います。" in page
    assert card().status == CardStatus.BOOKED
    checked_in.refresh_from_db()
    assert checked_in.status == ReservationStatus.CHECKED_IN
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("ready", [True, False], ids=["called", "not-checked-in"])
def test_a_contractor_handing_to_a_proxy_where_officials_judge_proxies_gets_the_refusal_page(
    city: factories.City, booked: Reservation, ready: bool
) -> None:
    """The municipality keeps only the proxy's eligibility with officials: the contractor
    sees the screen, may hand the card to its holder, but handing it to a proxy is refused
    with the 403 page — before anything else about the visit is judged — and nothing changes."""
    city.municipality.official_required_steps = ["proxy_eligibility"]
    city.municipality.save(update_fields=["official_required_steps"])
    if ready:
        check_in_booked_visitor(code=booked.code, actor=Actor.system("test"))
        counter = Counter.objects.filter(site=city.site).order_by("pk").first()
        assert counter is not None
        call_next_ticket(site=city.site, counter=counter, actor=Actor.system("test"))
    _, client = worker(city, Role.CONTRACTOR)
    assert client.get(url(booked)).status_code == 200
    events = AuditEvent.objects.count()

    response = client.post(url(booked), PROXY)

    assert response.status_code == 403
    assert "市区町村の職員が行います" in response.content.decode()
    assert card().status == CardStatus.BOOKED
    assert AuditEvent.objects.count() == events
    if ready:  # the control: the same contractor hands the card to its holder
        page_after(client, booked, HOLDER)
        assert card().status == CardStatus.HANDED_OVER


def test_a_proxy_needs_an_accepted_reason(city: factories.City, checked_in: Reservation) -> None:
    _, client = worker(city)
    page = page_after(client, checked_in, {**PROXY, "proxy_reason": ""})
    assert "代理の理由を選んでください" in page
    assert card().status == CardStatus.BOOKED

    page = page_after(client, checked_in, {**PROXY, "proxy_reason": "busy_at_work"})
    assert "代理の理由を一覧から選んでください。" in page
    assert card().status == CardStatus.BOOKED


def test_the_identity_check_must_be_confirmed(
    city: factories.City, checked_in: Reservation
) -> None:
    _, client = worker(city)
    page = page_after(client, checked_in, {**HOLDER, "identity_checked": ""})
    assert "本人確認を行ってから" in page
    assert card().status == CardStatus.BOOKED


def test_a_reservation_not_checked_in_is_refused(city: factories.City, booked: Reservation) -> None:
    _, client = worker(city)
    page = client.post(url(booked), HOLDER).content.decode()
    assert "受付済みの予約だけです" in page
    assert card().status == CardStatus.BOOKED
    booked.refresh_from_db()
    assert booked.status == ReservationStatus.BOOKED


def test_when_closing_the_visit_fails_the_card_is_not_handed_over(
    city: factories.City, checked_in: Reservation, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_: Any) -> Reservation:
        raise DomainError("invalid_transition", "完了にできませんでした。", status=409)

    monkeypatch.setattr(visits, "finish_ticket", refuse)
    _, client = worker(city)
    page = page_after(client, checked_in, HOLDER)
    assert "完了にできませんでした。" in page
    assert card().status == CardStatus.BOOKED
    assert not CardHandOver.objects.exists()
    assert not AuditEvent.objects.filter(action="card.hand_over").exists()


def test_a_refused_hand_over_shows_the_reason_and_keeps_what_was_typed(
    city: factories.City, checked_in: Reservation
) -> None:
    _, client = worker(city)
    response = client.post(url(checked_in), {**HOLDER, "id_documents": ["pension"]})
    assert response.status_code == 422
    page = response.content.decode()
    assert "写真付きのもの1点か、写真のないもの2点" in page
    assert re.search(
        r'<input type="checkbox" name="id_documents" value="pension"[^>]* checked', page
    )
    assert re.search(r'<input type="radio" name="pin_setting" value="holder"[^>]* checked', page)
    assert card().status == CardStatus.BOOKED


def test_staff_of_another_site_cannot_hand_over(
    city: factories.City, checked_in: Reservation
) -> None:
    stranger = StaffUser.objects.create_user(
        "elsewhere", password="x", role=Role.OFFICIAL, municipality=city.municipality
    )
    client = Client()
    login_staff(client, stranger)
    assert client.post(url(checked_in), HOLDER).status_code == 403
    assert card().status == CardStatus.BOOKED


def test_a_visitor_not_yet_called_gets_no_form_but_the_way_to_call_them(
    city: factories.City, booked: Reservation
) -> None:
    check_in_booked_visitor(code=booked.code, actor=Actor.system("test"))
    _, client = worker(city)
    screen = client.get(url(booked)).content.decode()
    assert "まだお呼びしていません" in screen
    assert f'action="{url(booked)}"' not in screen
    page = page_after(client, booked, HOLDER)
    assert "まだお呼びしていません" in page
    assert card().status == CardStatus.BOOKED


@pytest.mark.parametrize(
    ("language", "named"), [("vi", "ベトナム語"), ("en", "英語"), ("ja", None)]
)
def test_the_hand_over_screen_names_the_bookings_language_for_the_clerk(
    city: factories.City, checked_in: Reservation, language: str, named: str | None
) -> None:
    Reservation.objects.filter(pk=checked_in.pk).update(language=language)
    _, client = worker(city)
    screen = client.get(url(checked_in)).content.decode()
    if named is None:
        assert "booking-language" not in screen
    else:
        assert f'<dt>言語</dt><dd class="booking-language">{named}</dd>' in screen
