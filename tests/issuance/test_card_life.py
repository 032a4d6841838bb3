"""A card's whole life, each step through the service the pages use, and the audit chain
checked at the end: delivered in a J-LIS file → inspected → set up → noticed → booked by the
resident (API) → moved to another day → checked in, called and handed over; and a second card
→ noticed → never booked → reminded → destroyed. Every move leaves one audit event and the
chain verifies whole."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client

from madoguchi.core import clock
from madoguchi.core.audit import Actor, seal_audit_events, verify_audit_chain
from madoguchi.core.models import AuditEvent
from madoguchi.issuance.imports import import_deliveries
from madoguchi.issuance.models import (
    CardRecord,
    CardStatus,
    ECertificates,
    IdDocument,
    OldCard,
    PinSetting,
)
from madoguchi.issuance.services import (
    HandOverChecks,
    destroy_card,
    destroy_due_on,
    inspect_cards,
    issue_notices,
    policy_for,
    record_cards_setup,
    reminder_due_on,
    send_reminders,
)
from madoguchi.offices.models import Counter
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.reservations.selectors import bookable_slots
from madoguchi.reservations.slots import regenerate_site_slots
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins import visits
from madoguchi.walkins.services import call_next_ticket, check_in_booked_visitor
from tests.resident_site import factories
from tests.resident_site.factories import VISIT_DAY

pytestmark = [pytest.mark.django_db, pytest.mark.frozen_at(factories.NOW)]

DELIVERY = (
    "application_id,delivered_on,family_name,given_name,family_name_kana,given_name_kana,"
    "birth_date,postal_code,address,application_kind\n"
    "90210358112040000000101,2026-05-28,山田,花子,ヤマダ,ハナコ,1986-04-12,123-4567,"
    "みどり市中央一丁目2番3号,renewal\n"
    "90210358112040000000102,2026-05-28,佐藤,一郎,サトウ,イチロウ,1949-10-30,123-4568,"
    "みどり市北町5番地の1,renewal\n"
)
SYSTEM = Actor.system("card-life")


def _slot_on(site_id: int, day: dt.date) -> int:
    slot = bookable_slots(
        site_id=site_id, procedure_code="card_pickup", date_from=day, date_to=day
    ).first()
    assert slot is not None, day
    return slot.pk


def test_a_card_from_delivery_to_hand_over_and_one_to_destruction_keep_the_chain_whole(
    frozen: Any, client: Client
) -> None:
    city = factories.city()
    regenerate_site_slots(
        site=city.site, first=dt.date(2026, 6, 4), last=dt.date(2026, 6, 30), actor=SYSTEM
    )
    official = StaffUser.objects.create_user(
        "desk", password="x", role=Role.OFFICIAL, municipality=city.municipality
    )
    official.sites.set([city.site])

    report = import_deliveries(
        io.BytesIO(DELIVERY.encode()),
        file_name="jlis-20260528.csv",
        municipality=city.municipality,
        actor=SYSTEM,
    )
    assert report.accepted, report.lines()
    hanako, ichiro = CardRecord.objects.order_by("application_id")
    inspect_cards(cards=[hanako, ichiro], actor=SYSTEM)
    record_cards_setup(cards=CardRecord.objects.order_by("pk"), terminal=None, actor=SYSTEM)
    issue_notices(
        cards=list(CardRecord.objects.order_by("pk")),
        actor=SYSTEM,
        municipality=city.municipality,
    )
    hanako.refresh_from_db()
    ichiro.refresh_from_db()
    assert hanako.status == ichiro.status == CardStatus.NOTICE_ISSUED

    # The resident books with the notice's number, then moves to the next day.
    booked = client.post(
        "/api/v1/reservations",
        {
            "slot_id": _slot_on(city.site.pk, VISIT_DAY - dt.timedelta(days=1)),
            "procedure": "card_pickup",
            "notice_number": hanako.notice_number,
            "birth_date": "1986-04-12",
        },
        content_type="application/json",
    )
    assert booked.status_code == 201, booked.content
    code = booked.json()["code"]
    moved = client.post(
        f"/api/v1/reservations/{code}/reschedule",
        {"birth_date": "1986-04-12", "slot_id": _slot_on(city.site.pk, VISIT_DAY)},
        content_type="application/json",
    )
    assert moved.status_code == 200, moved.content
    hanako.refresh_from_db()
    assert (hanako.status, hanako.reservation_code) == (CardStatus.BOOKED, code)

    # On the day: checked in, called, handed over.
    frozen.move_to(clock.at(VISIT_DAY, dt.time(9, 55)))
    check_in_booked_visitor(code=code, actor=Actor.staff(official))
    counter = Counter.objects.filter(site=city.site).order_by("pk").first()
    assert counter is not None
    assert call_next_ticket(site=city.site, counter=counter, actor=Actor.staff(official))
    visits.hand_over_card_at_visit(
        code=code,
        actor=Actor.staff(official),
        staff_user=official,
        checks=HandOverChecks(
            is_proxy=False,
            id_documents=(IdDocument.DRIVING_LICENCE,),
            old_card=OldCard.COLLECTED_AND_PUNCHED,
            pin_setting=PinSetting.SET_BY_HOLDER,
            e_certificates=ECertificates.BOTH,
        ),
    )
    hanako.refresh_from_db()
    assert hanako.status == CardStatus.HANDED_OVER
    assert Reservation.objects.get(code=code).status == ReservationStatus.SERVED

    # The other card is never booked: reminded when due, destroyed when due.
    policy = policy_for(city.municipality)
    reminder_day = reminder_due_on(ichiro, policy)
    assert reminder_day is not None
    frozen.move_to(clock.at(reminder_day, dt.time(10, 0)))
    send_reminders(cards=[ichiro], actor=SYSTEM, municipality=city.municipality)
    ichiro.refresh_from_db()
    assert ichiro.status == CardStatus.REMINDED
    destroy_day = destroy_due_on(ichiro, policy)
    assert destroy_day is not None
    frozen.move_to(clock.at(destroy_day, dt.time(10, 0)))
    destroy_card(card=ichiro, actor=Actor.staff(official), staff_user=official)
    ichiro.refresh_from_db()
    assert ichiro.status == CardStatus.DESTROYED

    # Each card's trail, in order, and the chain whole.
    trail = {
        card.pk: list(
            AuditEvent.objects.filter(subject_type="issuance.CardRecord", subject_id=str(card.pk))
            .order_by("pk")
            .values_list("action", flat=True)
        )
        for card in (hanako, ichiro)
    }
    assert trail[hanako.pk][-1] == "card.hand_over", trail
    assert trail[ichiro.pk][-1].startswith("card.destro"), trail
    seal_audit_events()
    verified = verify_audit_chain()
    assert verified.intact, verified.findings
    assert (verified.checked, verified.pending) == (AuditEvent.objects.count(), 0)
