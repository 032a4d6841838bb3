"""The booking's one statement (`reservations.fastpath`): its shape on the wire, its size for
psycopg's parse cache, and its hand-written names against the models' own."""

from __future__ import annotations

import re
from typing import Any

import pytest

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.issuance.models import BOOKABLE_STATUSES, CardRecord, CardStatus
from madoguchi.issuance.services import READY_FOR_BOOKING
from madoguchi.issuance.services import SUBJECT as CARD_SUBJECT
from madoguchi.offices.models import Municipality, Procedure, Site
from madoguchi.reservations import fastpath
from madoguchi.reservations.models import Reservation, ReservationStatus, Slot
from madoguchi.reservations.services import SUBJECT as RESERVATION_SUBJECT
from madoguchi.reservations.services import book_group_reservation, book_reservation
from tests.reservations import factories
from tests.reservations.factories import pickup

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
RESIDENT = Actor.resident()


@pytest.fixture(autouse=True)
def cards(municipality: Municipality) -> None:
    for notice in ("ABC123456", "ABC000001", "ABC000010", "ABC000011"):
        factories.card(municipality, notice)


def _book(slot: Slot) -> Reservation:
    return book_reservation(
        slot_id=slot.pk, procedure_code="card_pickup", applicant=pickup(), actor=RESIDENT
    )


def _columns(model: Any) -> set[str]:
    return {str(f.column) for f in model._meta.concrete_fields}


def test_the_statement_names_the_models_tables_columns_and_constants() -> None:
    """The statement is hand-written for a reader; this holds its names to the models'."""
    text = fastpath.STATEMENT
    for model in (Slot, Reservation, CardRecord, AuditEvent):
        assert f" {model._meta.db_table}" in text
    inserted = re.search(r"INSERT INTO reservations_reservation\s*\(([^)]*)\)", text)
    assert inserted is not None
    columns = {c.strip() for c in inserted.group(1).split(",")}
    # every column the reservation has, except the key and those a new booking leaves empty
    assert columns == _columns(Reservation) - {
        "id",
        "checked_in_at",
        "finished_at",
        "reminder_sent_for",
    }
    events = re.search(r"INSERT INTO core_auditevent\s*\(([^)]*)\)", text)
    assert events is not None
    assert {c.strip() for c in events.group(1).split(",")} == _columns(AuditEvent) - {"id", "seq"}
    assert {"status", "booked_at", "reservation_code", "updated_at"} <= _columns(CardRecord)
    assert {"booked", "capacity", "is_offered"} <= _columns(Slot)
    ready = ", ".join(f"'{s}'" for s in READY_FOR_BOOKING)
    bookable = ", ".join(f"'{s}'" for s in BOOKABLE_STATUSES)
    assert f"status IN ({ready}) AS ready" in text
    assert f"status IN ({bookable})" in text
    assert f"SET status = '{CardStatus.BOOKED}'" in text
    assert f"'{ReservationStatus.BOOKED}', %(channel)s" in text
    assert f"'card.book', '{CARD_SUBJECT}'" in text
    assert f"'reservation.book', '{RESERVATION_SUBJECT}'" in text


def test_the_negative_control_differs_from_the_statement_only_in_its_claim() -> None:
    unsafe = fastpath._UNSAFE_STATEMENT
    assert fastpath.CLAIM in fastpath.STATEMENT
    assert unsafe != fastpath.STATEMENT
    assert unsafe.replace(fastpath.UNSAFE_CLAIM_FOR_THE_NEGATIVE_CONTROL, fastpath.CLAIM) == (
        fastpath.STATEMENT
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_in_a_request_the_booking_transaction_is_one_round_trip(
    main_office: Site, card_pickup: Procedure
) -> None:
    """Outside a test's atomic block, as in a request: after the reads, BEGIN, the one
    statement (card lock first, then the seat claim guarding every write) and COMMIT travel
    together (`reservations.fastpath`)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    slot = factories.slot(main_office, card_pickup, capacity=2)
    with CaptureQueriesContext(connection) as queries:
        reservation = _book(slot)
    sent = [q["sql"] for q in queries.captured_queries]
    reads, (booking,), after = sent[:3], sent[3:4], sent[4:]
    assert all(r.startswith("SELECT") for r in reads)  # slot, procedure, site (cache off)
    assert booking.startswith("BEGIN; WITH applicant AS (")
    assert booking.index("FOR UPDATE") < booking.index("UPDATE reservations_slot")
    assert booking.endswith("; COMMIT")
    assert after[:1] == ["BEGIN"]  # the audit sealer's own transaction, after the commit
    slot.refresh_from_db()
    assert slot.booked == 1
    card = CardRecord.objects.get(notice_number="ABC123456")
    assert (card.status, card.reservation_code) == ("booked", reservation.code)
    assert AuditEvent.objects.filter(action__in=["card.book", "reservation.book"]).count() == 2
    assert connection.connection.info.transaction_status == 0  # idle: committed with it


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_booking_refused_by_the_database_rolls_back_and_leaves_the_connection_usable(
    main_office: Site, card_pickup: Procedure
) -> None:
    """A statement that fails in the database (here the partial unique index: the same person
    booked already, which a double submit meets) sends ROLLBACK; the service then answers
    with the existing booking on the same connection."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    slot = factories.slot(main_office, card_pickup, capacity=3)
    first = _book(slot)
    CardRecord.objects.filter(notice_number="ABC123456").update(status=CardStatus.NOTICE_ISSUED)
    with CaptureQueriesContext(db) as queries:
        again = _book(slot)  # the card looks free, but the person holds a booking
    assert again.pk == first.pk
    assert any(q["sql"].startswith("BEGIN; WITH applicant") for q in queries.captured_queries)
    assert db.connection.info.transaction_status == 0
    slot.refresh_from_db()
    assert slot.booked == 1 == Reservation.objects.count()


@pytest.mark.postgres
def test_the_booking_statement_stays_inside_psycopgs_parse_cache(
    main_office: Site, card_pickup: Procedure, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg re-parses a statement on every call once it has more than 50 parameters or 4 KiB
    of text; the booking's one statement must stay under both (decision 0011), for a family
    as for one person (its text never changes)."""
    from psycopg import _queries

    from madoguchi.reservations import fastpath

    built = []
    parameters = fastpath._parameters

    def spy(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append(parameters(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(fastpath, "_parameters", spy)
    slot = factories.slot(main_office, card_pickup, capacity=5)
    _book(slot)
    book_group_reservation(
        slot_id=slot.pk,
        procedure_code="card_pickup",
        applicants=[pickup("ABC000001"), pickup("ABC000010"), pickup("ABC000011")],
        actor=RESIDENT,
    )
    assert len(built) == 2
    assert all(len(params) <= _queries.MAX_CACHED_STATEMENT_PARAMS for params in built)
    text = f"BEGIN; {fastpath.STATEMENT}; COMMIT"
    assert len(text.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH


@pytest.mark.postgres
def test_the_statements_audit_events_carry_seals_the_sealer_verifies(
    main_office: Site, card_pickup: Procedure, cert_renewal: Procedure
) -> None:
    """Each event the statement appends carries its row seal (`core.audit.row_seal`): the
    sealer links every one of them into the chain, and the chain verifies."""
    from madoguchi.core.audit import seal_audit_events, verify_audit_chain
    from tests.reservations.factories import renewal

    family = [pickup("ABC000001"), pickup("ABC000010"), pickup("ABC000011")]
    book_group_reservation(
        slot_id=factories.slot(main_office, card_pickup, capacity=5).pk,
        procedure_code="card_pickup",
        applicants=family,
        actor=RESIDENT,
    )
    book_reservation(
        slot_id=factories.slot(main_office, cert_renewal).pk,
        procedure_code="cert_renewal",
        applicant=renewal(),
        actor=RESIDENT,
    )
    assert AuditEvent.objects.count() == 3 + 3 + 1
    assert all(event.mac for event in AuditEvent.objects.all())

    seal_audit_events()

    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert not AuditEvent.objects.filter(seq__lt=0).exists()  # none refused
    report = verify_audit_chain()
    assert report.intact and report.checked == 7 and report.pending == 0
