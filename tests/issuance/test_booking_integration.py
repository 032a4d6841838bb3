"""What the reservations side relies on: find by number + birth date, book, unbook, hand over."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.issuance import selectors, services
from madoguchi.issuance.models import CardStatus, IdDocumentClass, ProxyReason
from madoguchi.issuance.numbers import format_notice_number
from madoguchi.staff.models import Role
from tests.issuance import factories

pytestmark = pytest.mark.django_db
RESIDENT = Actor.resident()


def test_a_card_is_found_by_its_number_however_it_is_typed() -> None:
    card = factories.card(status=CardStatus.NOTICE_ISSUED)
    printed = format_notice_number(card.notice_number or "")
    for typed in (printed, printed.lower(), card.notice_number, printed.replace("-", " ")):
        assert (
            selectors.find_card_for_booking(notice_number=typed or "", birth_date=card.birth_date)
            == card
        )
    full_width = printed.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert (
        selectors.find_card_for_booking(notice_number=full_width, birth_date=card.birth_date)
        == card
    )


def test_a_wrong_birth_date_or_unknown_number_finds_nothing() -> None:
    card = factories.card(status=CardStatus.NOTICE_ISSUED)
    number = card.notice_number or ""
    assert (
        selectors.find_card_for_booking(notice_number=number, birth_date=dt.date(1986, 4, 13))
        is None
    )
    assert (
        selectors.find_card_for_booking(notice_number="ZZZ999999", birth_date=card.birth_date)
        is None
    )
    assert selectors.find_card_for_booking(notice_number="", birth_date=card.birth_date) is None


@pytest.mark.parametrize("status", [CardStatus.SETUP_DONE, CardStatus.HANDED_OVER])
def test_cards_not_waiting_for_a_booking_are_not_found(status: CardStatus) -> None:
    card = factories.card(
        status=status,
        notice_number="K7Q482913",
        is_proxy=False,
        handed_over_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    assert (
        selectors.find_card_for_booking(notice_number="K7Q-482913", birth_date=card.birth_date)
        is None
    )


def test_booking_then_cancelling_moves_the_card_and_back_and_audits_both() -> None:
    card = factories.card(status=CardStatus.NOTICE_ISSUED)
    services.mark_card_booked(card=card, reservation_code="R-ABC", actor=RESIDENT)
    card.refresh_from_db()
    assert card.status == CardStatus.BOOKED
    assert card.reservation_code == "R-ABC"
    services.mark_card_unbooked(card=card, actor=RESIDENT)
    card.refresh_from_db()
    assert card.status == CardStatus.NOTICE_ISSUED
    assert card.reservation_code == ""
    actions = list(
        AuditEvent.objects.filter(subject_id=str(card.pk)).values_list("action", flat=True)
    )
    assert actions == ["card.book", "card.unbook"]


def test_a_booked_card_cannot_be_booked_twice() -> None:
    card = factories.card(status=CardStatus.NOTICE_ISSUED)
    services.mark_card_booked(card=card, reservation_code="R-1", actor=RESIDENT)
    with pytest.raises(DomainError) as refused:
        services.mark_card_booked(card=card, reservation_code="R-2", actor=RESIDENT)
    assert refused.value.status == 409


def test_an_official_hands_over_a_booked_card_recording_proxy_and_documents() -> None:
    card = factories.card(status=CardStatus.BOOKED, reservation_code="R-1")
    official = factories.staff(Role.OFFICIAL, card.municipality)
    services.hand_over_card(
        card=card,
        actor=Actor.staff(official),
        staff_user=official,
        is_proxy=True,
        id_document_class=IdDocumentClass.TWO_OTHER,
        proxy_reason=ProxyReason.HOSPITAL_OR_CARE,
    )
    card.refresh_from_db()
    assert card.status == CardStatus.HANDED_OVER
    assert card.handed_over_by == official
    assert card.is_proxy is True
    assert card.id_document_class == "two_other"
    assert card.handed_over_at is not None


def test_a_contractor_may_not_decide_a_hand_over_where_officials_must() -> None:
    card = factories.card(status=CardStatus.BOOKED)
    contractor = factories.staff(Role.CONTRACTOR, card.municipality)
    with pytest.raises(DomainError) as refused:
        services.hand_over_card(
            card=card,
            actor=Actor.staff(contractor),
            staff_user=contractor,
            is_proxy=False,
            id_document_class=IdDocumentClass.ONE_PHOTO,
        )
    assert refused.value.code == "official_required"
    card.refresh_from_db()
    assert card.status == CardStatus.BOOKED


def test_a_contractor_may_not_hand_over_where_officials_keep_the_identity_judgement() -> None:
    owner = factories.municipality(code="999997", name="デモ市")
    owner.official_required_steps = ["identity_judgement"]
    owner.save()
    card = factories.card(owner, status=CardStatus.BOOKED)
    contractor = factories.staff(Role.CONTRACTOR, card.municipality)
    with pytest.raises(DomainError) as refused:
        services.hand_over_card(
            card=card,
            actor=Actor.staff(contractor),
            staff_user=contractor,
            is_proxy=False,
            id_document_class=IdDocumentClass.ONE_PHOTO,
        )
    assert refused.value.code == "official_required"


def test_a_contractor_may_hand_over_where_the_municipality_delegates_it() -> None:
    owner = factories.municipality(code="999997", name="デモ市")
    owner.official_required_steps = ["proxy_eligibility"]  # only proxies need an official
    owner.save()
    card = factories.card(owner, status=CardStatus.BOOKED)
    contractor = factories.staff(Role.CONTRACTOR, card.municipality)
    services.hand_over_card(
        card=card,
        actor=Actor.staff(contractor),
        staff_user=contractor,
        is_proxy=False,
        id_document_class=IdDocumentClass.ONE_PHOTO,
    )
    card.refresh_from_db()
    assert card.status == CardStatus.HANDED_OVER


def test_an_unknown_id_document_class_is_refused() -> None:
    card = factories.card(status=CardStatus.BOOKED)
    official = factories.staff(owner=card.municipality)
    with pytest.raises(DomainError):
        services.hand_over_card(
            card=card,
            actor=Actor.staff(official),
            staff_user=official,
            is_proxy=False,
            id_document_class="passport",
        )
