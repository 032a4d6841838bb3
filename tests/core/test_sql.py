"""The plain-statement helpers read and write rows exactly as the ORM would, on every backend."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from madoguchi.core import clock
from madoguchi.core.sql import insert_rows, select_rows, update_row
from madoguchi.issuance.models import CardRecord
from madoguchi.offices.models import Procedure
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.staff.models import StaffUser
from tests.offices import factories

pytestmark = pytest.mark.django_db


def make_slot(capacity: int = 3, booked: int = 0) -> Slot:
    site = factories.site(factories.municipality(), counters=1)
    procedure = factories.procedure("card_pickup")
    starts = clock.at(dt.date(2026, 12, 7), dt.time(10, 0))
    return Slot.objects.create(
        site=site,
        procedure=procedure,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=20),
        capacity=capacity,
        booked=booked,
    )


@pytest.fixture
def slot() -> Slot:
    return make_slot()


def _reservation_values(slot: Slot, code: str) -> dict[str, object]:
    now = clock.now()
    return {
        "code": code,
        "group_code": "G1",
        "slot_id": slot.pk,
        "procedure": Procedure.objects.get(pk=slot.procedure_id),  # a related object by name
        "status": "booked",
        "channel": "web",
        "person_key": f"kana:{code}",
        "birth_date": dt.date(1980, 5, 17),
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "email": "",
        "phone": "",
        "notice_number": "",
        "is_proxy": False,
        "created_at": now,
        "updated_at": now,
    }


def test_inserted_rows_read_back_through_the_orm_unchanged(slot: Slot) -> None:
    ids = insert_rows(
        Reservation, [_reservation_values(slot, "AAAA"), _reservation_values(slot, "BBBB")]
    )
    first, second = (Reservation.objects.get(pk=pk) for pk in ids)
    assert (first.code, second.code) == ("AAAA", "BBBB")  # ids come back in VALUES order
    assert first.procedure_id == slot.procedure_id
    assert first.birth_date == dt.date(1980, 5, 17)
    assert first.family_name_kana == "ヤマダ"
    assert first.created_at.tzinfo is not None


def test_selected_rows_are_the_orm_s_instances_with_converted_columns(slot: Slot) -> None:
    (read,) = select_rows(Slot, "id = %s", [slot.pk])
    expected = Slot.objects.get(pk=slot.pk)
    for field in Slot._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert read.starts_at.tzinfo is not None  # SQLite's text datetimes are converted
    assert not read._state.adding
    assert select_rows(Slot, "id = %s", [slot.pk + 1000]) == []
    with transaction.atomic():
        (locked,) = select_rows(Slot, "id = %s", [slot.pk], lock=True)
    assert locked.pk == slot.pk


def test_update_row_changes_only_the_named_columns(slot: Slot) -> None:
    user = StaffUser.objects.create_user(username="clerk", password="x")
    from tests.issuance.factories import card

    record = card(slot.site.municipality)
    now = clock.now()
    changed = update_row(
        CardRecord,
        record.pk,
        {"reservation_code": "R-1", "updated_at": now, "handed_over_by": user},
    )
    assert changed == 1
    fresh = CardRecord.objects.get(pk=record.pk)
    assert (fresh.reservation_code, fresh.handed_over_by_id) == ("R-1", user.pk)
    assert fresh.family_name == record.family_name
    assert update_row(CardRecord, record.pk + 1000, {"reservation_code": "R-2"}) == 0


def test_a_write_batch_runs_every_write_once_and_returns_their_keys(slot: Slot) -> None:
    from madoguchi.core.sql import WriteBatch

    batch = WriteBatch()
    inserted = batch.insert(
        Reservation, [_reservation_values(slot, "CCCC"), _reservation_values(slot, "DDDD")]
    )
    batch.update(Slot, slot.pk, {"conflict_reason": "テスト"})
    claim = batch.execute(
        "UPDATE reservations_slot SET booked = booked + 1 WHERE id = %s AND booked < capacity",
        [
            Slot.objects.create(
                site=slot.site,
                procedure=slot.procedure,
                capacity=1,
                starts_at=slot.ends_at,
                ends_at=slot.ends_at + dt.timedelta(minutes=20),
            ).pk
        ],
        returning="id",
    )
    results = batch.run()
    codes = [Reservation.objects.get(pk=pk).code for pk in results[inserted]]
    assert codes == ["CCCC", "DDDD"]
    (claimed,) = results[claim]
    assert Slot.objects.get(pk=claimed).booked == 1
    slot.refresh_from_db()
    assert slot.conflict_reason == "テスト"


def test_a_failing_write_fails_the_whole_batch(slot: Slot) -> None:
    from django.db import IntegrityError

    from madoguchi.core.sql import WriteBatch

    batch = WriteBatch()
    batch.update(Slot, slot.pk, {"conflict_reason": "テスト"})
    batch.insert(Reservation, [_reservation_values(slot, "EEEE")])
    batch.insert(Reservation, [_reservation_values(slot, "EEEE")])  # the same code twice
    with pytest.raises(IntegrityError), transaction.atomic():
        batch.run()
    slot.refresh_from_db()
    assert slot.conflict_reason == ""
    assert not Reservation.objects.filter(code="EEEE").exists()


def test_selected_rows_with_only_read_those_columns_and_defer_the_rest(slot: Slot) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        (read,) = select_rows(Slot, "id = %s", [slot.pk], only=("capacity", "starts_at"))
    assert '"booked"' not in queries.captured_queries[0]["sql"]
    assert (read.pk, read.capacity, read.starts_at) == (slot.pk, 3, slot.starts_at)
    assert read.get_deferred_fields() >= {"booked", "site_id", "procedure_id"}
    assert read.booked == 0  # a deferred column is read on first use, as the ORM does


def test_constants_are_quoted_and_refuse_anything_but_plain_names() -> None:
    from madoguchi.core.sql import constants

    assert constants("notice_issued", "reminded") == "'notice_issued', 'reminded'"
    for bad in ("it's", "a b", "x'; DROP TABLE y; --", "ｂｏｏｋｅｄ"):
        with pytest.raises(ValueError, match="plain constant"):
            constants("booked", bad)


@pytest.mark.django_db
def test_value_preparation_gives_what_the_orm_would_on_this_backend() -> None:
    """`_prep`'s shortcuts (plain values; aware datetimes and dates on PostgreSQL) return
    exactly what the field's own `get_db_prep_save` returns, and everything else goes there."""
    import datetime as dt

    from django.db import connection

    from madoguchi.core import clock
    from madoguchi.core.models import AuditEvent
    from madoguchi.core.sql import _prep
    from madoguchi.reservations.models import Reservation

    field = Reservation._meta.get_field
    aware = dt.datetime(2026, 12, 1, 10, 0, 5, 123456, tzinfo=clock.JST)
    cases = [
        (field("created_at"), aware),
        (field("created_at"), aware.astimezone(dt.UTC)),
        (field("birth_date"), dt.date(1980, 5, 17)),
        (field("birth_date"), aware),  # a datetime given to a date field: converted, not kept
        (field("reminder_sent_for"), None),
        (field("code"), "K7Q2M9XW4P"),
        (field("is_proxy"), True),
        (AuditEvent._meta.get_field("after"), {"status": "booked"}),
    ]
    for f, value in cases:
        ours, orm = _prep(connection, f, value), f.get_db_prep_save(value, connection)
        assert type(ours) is type(orm), (f.name, value)
        if f.name != "after":  # psycopg's Jsonb wrapper has no value equality; its type is checked
            assert ours == orm, (f.name, value)
