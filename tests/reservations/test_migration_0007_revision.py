"""reservations 0007 adds the booking's revision (its .ics SEQUENCE) and starts a booking changed
before it where its .ics's SEQUENCE was: the seconds from `created_at` to `updated_at`.

Run on the module's throw-away database (tests/migration_steps.py): reservations is taken to
0006 (with only the migrations it depends on), bookings are saved as they were, and 0007 is
applied, then reversed.
"""

from __future__ import annotations

import datetime as dt

from tests.migration_steps import MigrationSteps

BEFORE = [("reservations", "0006_japanese_field_labels")]
AFTER = [("reservations", "0007_reservation_revision")]
AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def test_0007_keeps_each_bookings_sequence_from_falling(migration_steps: MigrationSteps) -> None:
    at_0006 = migration_steps.migrate(BEFORE)
    municipality = at_0006.get_model("offices", "Municipality").objects.create(
        code="999991", name="移行町"
    )
    site = at_0006.get_model("offices", "Site").objects.create(
        municipality=municipality, name="本庁舎", kind="main_office", address="1-1"
    )
    procedure = at_0006.get_model("offices", "Procedure").objects.create(
        code="cert_renewal", name="電子証明書の更新", duration_minutes=10
    )
    slot = at_0006.get_model("reservations", "Slot").objects.create(
        site=site,
        procedure=procedure,
        starts_at=AT + dt.timedelta(days=6),
        ends_at=AT + dt.timedelta(days=6, minutes=10),
        capacity=3,
        booked=3,
    )
    reservation = at_0006.get_model("reservations", "Reservation")
    changed_after = {"UNCHANGED": 0, "MOVED": 3600, "CANCELLED": 2 * 86400 + 5}
    for code, seconds in changed_after.items():
        reservation.objects.create(
            code=code,
            group_code=code,
            slot=slot,
            procedure=procedure,
            person_key=code,
            birth_date=dt.date(1975, 3, 3),
            created_at=AT,
            updated_at=AT + dt.timedelta(seconds=seconds, microseconds=999_999),
        )

    after = migration_steps.migrate(AFTER)

    revisions = dict(
        after.get_model("reservations", "Reservation").objects.values_list("code", "revision")
    )
    # what the old .ics said (whole seconds): the next change goes one above it
    assert revisions == changed_after

    back = migration_steps.migrate(BEFORE)
    assert back.get_model("reservations", "Reservation").objects.count() == 3
