"""The per-card staff page: history, the moves the transition table allows, role checks, search."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.issuance import services
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.staff.models import Role
from madoguchi.staff_console.issuance.card_views import actions_for
from tests.conftest import login_staff
from tests.frozen_clock import CARDS_NOW
from tests.issuance import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(CARDS_NOW),
    pytest.mark.usefixtures("frozen"),
]


def client_for(role: str) -> Client:
    client = Client()
    login_staff(client, factories.staff(role, factories.municipality()))
    return client


def page(client: Client, card: CardRecord) -> str:
    response = client.get(f"/staff/issuance/cards/{card.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def act(client: Client, card: CardRecord, action: str, **extra: str) -> str:
    response = client.post(
        f"/staff/issuance/cards/{card.pk}/act/", {"action": action, **extra}, follow=True
    )
    return response.content.decode()


def test_the_page_shows_each_stage_with_its_time() -> None:
    card = factories.card()
    services.inspect_card(card=card, actor=Actor.system("test"))
    html = page(client_for(Role.OFFICIAL), card)
    assert card.application_id in html
    assert "到着" in html and card.delivered_on.isoformat() in html
    assert "検品済み" in html and "2026-11-27 10:00" in html
    assert "card.inspect" in html  # the audit trail


def test_offered_moves_follow_the_transition_table_and_the_role() -> None:
    owner = factories.municipality()
    people = {role: factories.staff(role, owner) for role in Role.values}

    def names(status: str, role: str) -> list[str]:
        card = CardRecord(municipality=owner, status=status)
        return [a.name for a in actions_for(card, people[role])]

    assert names(CardStatus.DELIVERED, Role.OFFICIAL) == ["inspect", "defective"]
    assert names(CardStatus.INSPECTED, Role.CONTRACTOR) == ["setup", "defective"]
    assert names(CardStatus.DEFECTIVE, Role.CONTRACTOR) == ["return"]
    assert names(CardStatus.NOTICE_ISSUED, Role.OFFICIAL) == ["remind"]
    assert names(CardStatus.NOTICE_ISSUED, Role.CONTRACTOR) == []
    assert names(CardStatus.REMINDED, Role.OFFICIAL) == ["destroy"]
    assert names(CardStatus.BOOKED, Role.OFFICIAL) == []  # no reminder letter for a booked card
    assert names(CardStatus.REMINDED, Role.CONTRACTOR) == []
    assert names(CardStatus.DELIVERED, Role.AUDITOR) == []
    assert names(CardStatus.HANDED_OVER, Role.ADMINISTRATOR) == []


def test_a_defect_is_recorded_with_a_reason_from_the_list_then_returned() -> None:
    card = factories.card()
    client = client_for(Role.CONTRACTOR)
    assert 'value="defective"' in page(client, card)

    act(client, card, "defective", reason="chip")
    card.refresh_from_db()
    assert card.status == CardStatus.DEFECTIVE
    assert card.defect_reason == "ICチップの不良"

    act(client, card, "return")
    card.refresh_from_db()
    assert card.status == CardStatus.RETURNED_TO_JLIS
    assert card.returned_at is not None


def test_a_defect_needs_a_listed_reason() -> None:
    card = factories.card()
    html = act(client_for(Role.OFFICIAL), card, "defective", reason="scratched by Mr Sato")
    assert "不良の内容を一覧から選んでください。" in html
    card.refresh_from_db()
    assert card.status == CardStatus.DELIVERED


def test_a_move_the_table_forbids_is_refused_with_the_reason() -> None:
    card = factories.card(status=CardStatus.NOTICE_ISSUED)
    html = act(client_for(Role.OFFICIAL), card, "return")
    assert "カードは「交付通知書発送済み」のため、「J-LISへ返送」にはできません。" in html
    assert "notice_issued" not in html
    card.refresh_from_db()
    assert card.status == CardStatus.NOTICE_ISSUED


def test_a_booked_cards_reminder_letter_is_refused_and_its_booking_kept() -> None:
    long_ago = clock.now() - dt.timedelta(days=120)
    card = factories.card(
        status=CardStatus.BOOKED,
        reservation_code="R-1",
        notice_issued_at=long_ago,
        first_notice_issued_at=long_ago,
    )
    html = act(client_for(Role.OFFICIAL), card, "remind")
    assert "カードは「予約済み」のため、「再通知済み」にはできません。" in html
    card.refresh_from_db()
    assert (card.status, card.reservation_code, card.reminded_at) == (
        CardStatus.BOOKED,
        "R-1",
        None,
    )


def test_an_official_sends_a_due_reminder_as_a_letter_of_its_own() -> None:
    long_ago = clock.now() - dt.timedelta(days=61)
    card = factories.card(status=CardStatus.NOTICE_ISSUED, notice_issued_at=long_ago)
    act(client_for(Role.OFFICIAL), card, "remind")
    card.refresh_from_db()
    assert card.status == CardStatus.REMINDED
    assert card.reminder_batch is not None and card.reminder_batch.cards == 1
    assert AuditEvent.objects.filter(action="card.remind", subject_id=str(card.pk)).exists()


def test_a_reminder_before_it_is_due_is_refused_with_its_date() -> None:
    card = factories.card(status=CardStatus.NOTICE_ISSUED, notice_issued_at=clock.now())
    html = act(client_for(Role.OFFICIAL), card, "remind")
    assert "再通知はまだ送れません" in html
    card.refresh_from_db()
    assert card.status == CardStatus.NOTICE_ISSUED


def test_a_reminded_card_is_destroyed_once_its_period_passed(
    frozen: time_machine.Traveller,
) -> None:
    card = factories.card(status=CardStatus.REMINDED)
    client = client_for(Role.OFFICIAL)
    assert "2027-02-27" in page(client, card)  # 3 months after the reminder

    html = act(client, card, "destroy")
    assert "まだ廃棄できません" in html
    frozen.move_to(dt.datetime(2027, 2, 27, 10, tzinfo=dt.UTC))
    act(client_for(Role.OFFICIAL), card, "destroy")  # a fresh login: sessions expire
    card.refresh_from_db()
    assert card.status == CardStatus.DESTROYED


def test_contractors_cannot_destroy_or_remind() -> None:
    client = client_for(Role.CONTRACTOR)
    reminded = factories.card(
        status=CardStatus.REMINDED, reminded_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    noticed = factories.card(status=CardStatus.NOTICE_ISSUED)
    assert 'value="destroy"' not in page(client, reminded)
    for card, action in ((reminded, "destroy"), (noticed, "remind")):
        response = client.post(f"/staff/issuance/cards/{card.pk}/act/", {"action": action})
        assert response.status_code == 403
    assert CardRecord.objects.get(pk=reminded.pk).status == CardStatus.REMINDED
    assert CardRecord.objects.get(pk=noticed.pk).status == CardStatus.NOTICE_ISSUED


def test_auditors_read_the_page_but_change_nothing() -> None:
    card = factories.card()
    client = client_for(Role.AUDITOR)
    html = page(client, card)
    assert 'name="action"' not in html
    response = client.post(f"/staff/issuance/cards/{card.pk}/act/", {"action": "inspect"})
    assert response.status_code == 403
    card.refresh_from_db()
    assert card.status == CardStatus.DELIVERED


def test_a_card_of_another_municipality_is_refused_like_a_missing_one() -> None:
    elsewhere = factories.card(factories.municipality(code="999997", name="よそ市"))
    client = client_for(Role.OFFICIAL)
    foreign = client.get(f"/staff/issuance/cards/{elsewhere.pk}/")
    missing = client.get(f"/staff/issuance/cards/{elsewhere.pk + 1000}/")
    assert foreign.status_code == missing.status_code == 403
    assert elsewhere.application_id not in foreign.content.decode()


def test_search_by_notice_number_opens_the_card() -> None:
    card = factories.card(status=CardStatus.NOTICE_ISSUED)
    number = card.notice_number or ""
    typed = f"{number[:3].lower()}－{number[3:]}"
    response = client_for(Role.AUDITOR).get("/staff/issuance/cards/", {"q": typed})
    assert response.status_code == 302
    assert response["Location"] == f"/staff/issuance/cards/{card.pk}/"


def test_search_by_application_id_prefix_lists_the_matches() -> None:
    first, second = factories.card(), factories.card()
    client = client_for(Role.OFFICIAL)
    response = client.get("/staff/issuance/cards/", {"q": first.application_id})
    assert response["Location"] == f"/staff/issuance/cards/{first.pk}/"
    html = client.get("/staff/issuance/cards/", {"q": first.application_id[:12]}).content.decode()
    assert first.application_id in html and second.application_id in html


def test_search_without_a_match_says_so() -> None:
    html = client_for(Role.OFFICIAL).get("/staff/issuance/cards/", {"q": "ZZZ"}).content.decode()
    assert "一致するカードはありません" in html


def test_the_dashboard_has_the_search_form() -> None:
    html = client_for(Role.AUDITOR).get("/staff/issuance/").content.decode()
    assert 'action="/staff/issuance/cards/"' in html
