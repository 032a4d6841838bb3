"""`hand_over_cards`, the bulk form of `hand_over_card` (the demo's pipeline hands its cards
over with it): the same rows and audit events as handing each card over alone, all or none,
and the access rule asked as the single service asks it."""

from __future__ import annotations

from typing import Any

import pytest

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.issuance import services as issuance
from madoguchi.issuance.models import CardRecord, CardStatus, IdDocumentClass, ProxyReason
from tests import personas as p
from tests.issuance import factories as cards

pytestmark = pytest.mark.django_db

KINDS: list[tuple[CardStatus, bool, str, str]] = [
    (CardStatus.NOTICE_ISSUED, False, IdDocumentClass.ONE_PHOTO, ""),
    (CardStatus.BOOKED, True, IdDocumentClass.TWO_OTHER, ProxyReason.AGED_75_OR_OLDER),
    (CardStatus.REMINDED, False, IdDocumentClass.TWO_OTHER, ""),
    (CardStatus.NOTICE_ISSUED, True, IdDocumentClass.ONE_PHOTO, ProxyReason.HOSPITAL_OR_CARE),
    (CardStatus.NOTICE_ISSUED, False, IdDocumentClass.ONE_PHOTO, ""),
]
"""Cards (status before) and how each is handed over: both ID-document classes, holders and
proxies, every status a card is handed over from."""

COMPARED = [
    f.attname
    for f in CardRecord._meta.concrete_fields
    if f.attname not in ("id", "application_id", "notice_number")
]


def _cards(world: p.World) -> list[CardRecord]:
    return [cards.card(world.home, status=status) for status, *_ in KINDS]


def _events(after: int) -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.filter(pk__gt=after)
        .order_by("pk")
        .values_list("at", "actor", "action", "subject_type", "before", "after")
    )


def test_handing_cards_over_together_writes_what_handing_each_over_alone_writes(
    personas: p.World, frozen: Any
) -> None:
    official = personas.users["official_a"]
    actor = Actor.staff(official)
    alone, together = _cards(personas), _cards(personas)
    start = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for card, (_status, is_proxy, document, reason) in zip(alone, KINDS, strict=True):
        issuance.hand_over_card(
            card=card,
            actor=actor,
            staff_user=official,
            is_proxy=is_proxy,
            id_document_class=document,
            proxy_reason=reason,
        )
    middle = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    moved = issuance.hand_over_cards(
        hand_overs=[
            issuance.HandOver(card, is_proxy, document, reason)
            for card, (_status, is_proxy, document, reason) in zip(together, KINDS, strict=True)
        ],
        actor=actor,
        staff_user=official,
    )

    def rows(of: list[CardRecord]) -> list[tuple[Any, ...]]:
        by_pk = CardRecord.objects.in_bulk([c.pk for c in of])
        return [tuple(getattr(by_pk[c.pk], name) for name in COMPARED) for c in of]

    assert rows(together) == rows(alone)
    assert all(row[COMPARED.index("status")] == CardStatus.HANDED_OVER for row in rows(together))
    assert [c.pk for c in moved] == [c.pk for c in together]
    one_by_one, in_bulk = _events(start), _events(middle)
    assert in_bulk == one_by_one[: len(in_bulk)] and len(in_bulk) == len(KINDS)
    assert list(
        AuditEvent.objects.filter(pk__gt=middle).order_by("pk").values_list("subject_id", flat=True)
    ) == [str(c.pk) for c in together]


def test_one_card_refused_hands_none_over(personas: p.World) -> None:
    official = personas.users["official_a"]
    waiting, delivered = (
        cards.card(personas.home, status=CardStatus.NOTICE_ISSUED),
        cards.card(personas.home, status=CardStatus.DELIVERED),
    )
    events = AuditEvent.objects.count()
    with pytest.raises(DomainError) as refused:
        issuance.hand_over_cards(
            hand_overs=[
                issuance.HandOver(waiting, False, IdDocumentClass.ONE_PHOTO),
                issuance.HandOver(delivered, False, IdDocumentClass.ONE_PHOTO),
            ],
            actor=Actor.staff(official),
            staff_user=official,
        )
    assert refused.value.status == 409
    statuses = CardRecord.objects.filter(pk__in=[waiting.pk, delivered.pk]).order_by("pk")
    assert list(statuses.values_list("status", flat=True)) == [
        CardStatus.NOTICE_ISSUED,
        CardStatus.DELIVERED,
    ]
    assert AuditEvent.objects.count() == events


def test_the_bulk_hand_over_asks_the_rule_as_the_single_one_does(personas: p.World) -> None:
    personas.home.official_required_steps = ["proxy_eligibility"]
    personas.home.save()
    card = cards.card(personas.home, status=CardStatus.NOTICE_ISSUED)
    proxy = issuance.HandOver(card, True, IdDocumentClass.ONE_PHOTO, ProxyReason.HOSPITAL_OR_CARE)
    holder = issuance.HandOver(card, False, IdDocumentClass.ONE_PHOTO, ProxyReason.HOSPITAL_OR_CARE)
    for name, hand_over, code, status in (
        ("foreign_manager", proxy, "forbidden", 403),
        ("auditor", proxy, "forbidden", 403),
        ("contractor_a", proxy, "official_required", 403),
        ("official_a", holder, "proxy_reason_unexpected", 422),
    ):
        user = personas.users[name]
        with pytest.raises(DomainError) as refused:
            issuance.hand_over_cards(
                hand_overs=[hand_over], actor=Actor.staff(user), staff_user=user
            )
        assert (refused.value.code, refused.value.status) == (code, status), name
    card.refresh_from_db()
    assert card.status == CardStatus.NOTICE_ISSUED
    contractor = personas.users["contractor_a"]
    issuance.hand_over_cards(
        hand_overs=[issuance.HandOver(card, False, IdDocumentClass.ONE_PHOTO)],
        actor=Actor.staff(contractor),
        staff_user=contractor,
    )
    card.refresh_from_db()
    assert (card.status, card.handed_over_by_id) == (CardStatus.HANDED_OVER, contractor.pk)
