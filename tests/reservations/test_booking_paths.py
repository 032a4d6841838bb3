"""Differential: the booking's one statement (`reservations.fastpath`) against the ORM
reference (`services._book_with_orm`) on PostgreSQL. The same bookings — single, family, card
pick-up and certificate renewal, a reminded card, double submits, full slots, unknown and
booked cards — must leave the same reservations, seat counts, cards and audit events, and
answer the same. (The booking and concurrency tests also run against both: `booking_path`.)"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.offices.models import Municipality, Procedure, Site
from madoguchi.reservations import services
from madoguchi.reservations.models import Channel, Reservation, Slot
from madoguchi.reservations.services import SlotFullError, book_group_reservation
from tests.reservations import factories
from tests.reservations.factories import pickup, renewal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


class _Rollback(Exception):
    pass


def _scenario(slots: dict[str, Slot], staff: Actor) -> list[Any]:
    """Every kind of booking outcome, in an order where later steps meet earlier ones."""
    resident = Actor.resident("api")
    steps: list[tuple[str, list[services.Applicant], Actor, str, str]] = [
        ("pickup", [pickup("DFT000001")], resident, Channel.API, "en"),
        ("pickup", [pickup("DFT000001")], resident, Channel.API, "en"),  # a double submit
        ("pickup", [pickup("DFT000002"), pickup("DFT000003")], resident, Channel.WEB, "pt-BR"),
        ("pickup", [pickup("DFT000004"), pickup("QQQ999999")], resident, Channel.WEB, "ko"),
        ("pickup", [pickup("DFT000005", birth=dt.date(1999, 1, 1))], resident, Channel.WEB, "vi"),
        ("other_pickup", [pickup("DFT000002")], resident, Channel.WEB, "ja"),  # booked elsewhere
        ("pickup", [pickup("DFT000006")], staff, Channel.PHONE, "ja"),  # a reminded card
        ("small_pickup", [pickup("DFT000007")], resident, Channel.WEB, "zh-hans"),
        ("small_pickup", [pickup("DFT000008")], resident, Channel.WEB, "ja"),  # full: card stays
        ("renewal", [renewal(is_proxy=True)], resident, Channel.WEB, "ja-x-easy"),
        ("renewal", [renewal(given="タロウ"), renewal(given="ジロウ")], staff, Channel.PHONE, "ko"),
        ("renewal", [renewal(given="サブロウ")], resident, Channel.WEB, "ja"),  # full
        ("renewal", [renewal(is_proxy=True)], resident, Channel.WEB, "ja-x-easy"),  # double
        ("renewal_later", [renewal(given="シロウ")], resident, Channel.WEB, "xx"),  # no such
    ]
    answers: list[Any] = []
    for slot_name, applicants, actor, channel, language in steps:
        slot = slots[slot_name]
        try:
            booked = book_group_reservation(
                slot_id=slot.pk,
                procedure_code=slot.procedure.code,
                applicants=applicants,
                actor=actor,
                channel=channel,
                language=language,
            )
            answers.append(sorted(r.code for r in booked))
        except SlotFullError as error:
            answers.append(("slot_full", [s.pk for s in error.alternatives]))
        except DomainError as error:
            answers.append((error.status, error.code))
    return answers


def _state() -> dict[str, Any]:
    reservations = [
        {k: v for k, v in row.items() if k != "id"}
        for row in Reservation.objects.order_by("code").values()
    ]
    events = sorted(
        (e.at, e.actor, e.action, e.subject_type, e.subject_id, repr(e.before), repr(e.after))
        for e in AuditEvent.objects.all()
    )
    return {
        "reservations": reservations,
        "slots": list(Slot.objects.order_by("pk").values_list("pk", "booked")),
        "cards": list(
            CardRecord.objects.order_by("pk").values_list(
                "pk", "status", "reservation_code", "booked_at", "updated_at"
            )
        ),
        "events": events,
    }


def _run(path: str, settings: Any, run: Callable[[], list[Any]], monkeypatch: Any) -> Any:
    """`run` under `path` in a savepoint that is rolled back, with the same reservation codes
    drawn each time; the answers and what the database held."""
    settings.MADOGUCHI_BOOKING_PATH = path
    codes = (f"CODE{n:06d}" for n in itertools.count())
    monkeypatch.setattr(services, "new_reservation_code", lambda: next(codes))
    result: Any = None
    try:
        with transaction.atomic():
            result = run(), _state()
            raise _Rollback
    except _Rollback:
        pass
    return result


def test_the_one_statement_and_the_orm_reference_book_the_same(
    settings: Any,
    municipality: Municipality,
    main_office: Site,
    card_pickup: Procedure,
    cert_renewal: Procedure,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(1, 9):
        factories.card(municipality, f"DFT{n:06d}")
    CardRecord.objects.filter(notice_number="DFT000006").update(status=CardStatus.REMINDED)
    slots = {
        "pickup": factories.slot(main_office, card_pickup, time="10:00", capacity=10),
        "other_pickup": factories.slot(main_office, card_pickup, time="10:30", capacity=10),
        "small_pickup": factories.slot(main_office, card_pickup, time="11:00", capacity=1),
        "renewal": factories.slot(main_office, cert_renewal, time="10:00", capacity=3),
        "renewal_later": factories.slot(main_office, cert_renewal, time="10:20", capacity=3),
    }
    staff = Actor("staff:1:clerk")
    run = lambda: _scenario(slots, staff)  # noqa: E731

    statement = _run("statement", settings, run, monkeypatch)
    orm = _run("orm", settings, run, monkeypatch)

    answers, state = statement
    assert answers == orm[0]
    assert state == orm[1]
    # and the scenario met what it was written to meet
    assert answers[0] == answers[1] and len(answers[2]) == 2
    assert answers[3] == (404, "not_found") == answers[4]
    assert answers[5] == (409, "already_booked")
    assert answers[8][0] == "slot_full"
    assert answers[13] == (422, "invalid_language")
    # each booking keeps the language it was made in, in the one form settings.LANGUAGES has
    languages = {r["code"]: r["language"] for r in state["reservations"]}
    assert [languages[code] for code in answers[0]] == ["en"]
    assert {languages[code] for code in answers[2]} == {"pt-br"}
    assert {languages[code] for code in answers[10]} == {"ko"}
    assert [languages[code] for code in answers[9]] == ["ja-x-easy"]
    assert answers[11] == ("slot_full", [slots["renewal_later"].pk])
    assert answers[12] == answers[9]
    assert len(state["reservations"]) == 8
    befores = [e[5] for e in state["events"] if e[2] == "card.book"]
    assert sorted(befores) == sorted(
        ["{'status': 'notice_issued'}"] * 4 + ["{'status': 'reminded'}"]
    )
