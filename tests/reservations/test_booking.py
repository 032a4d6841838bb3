"""Booking rules: window, identity, one booking per person, families, idempotency, changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.issuance.selectors import card_by_reservation
from madoguchi.issuance.services import hand_over_card
from madoguchi.offices.models import Municipality, Procedure, Site
from madoguchi.reservations import selectors, services
from madoguchi.reservations.models import Reservation, ReservationStatus, Slot
from madoguchi.reservations.services import (
    SlotFullError,
    book_group_reservation,
    book_reservation,
    cancel_reservation,
    check_in_reservation,
    mark_no_show,
    mark_served,
    reschedule_reservation,
)
from madoguchi.staff.models import StaffUser
from tests.reservations import factories
from tests.reservations.factories import VISIT_DAY, pickup, renewal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "booking_path")]
RESIDENT = Actor.resident()


@pytest.fixture(autouse=True)
def cards(municipality: Municipality) -> None:
    """Cards waiting for pick-up, one per notice number the tests use."""
    for notice in ("ABC123456", "ABC000001", "ABC000010", "ABC000011", "XYZ999999"):
        factories.card(municipality, notice)
    factories.card(municipality, "ABC000002", birth=dt.date(2015, 1, 1))


def _book(slot: Slot, applicant: services.Applicant | None = None, **kw: Any) -> Reservation:
    return book_reservation(
        slot_id=slot.pk,
        procedure_code=slot.procedure.code,
        applicant=applicant or pickup(),
        actor=kw.pop("actor", RESIDENT),
        **kw,
    )


def _error(call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def test_booking_takes_one_seat_and_writes_an_audit_event(
    main_office: Site, card_pickup: Procedure
) -> None:
    slot = factories.slot(main_office, card_pickup, capacity=2)
    reservation = _book(slot)
    slot.refresh_from_db()
    assert slot.booked == 1
    assert reservation.status == ReservationStatus.BOOKED
    assert reservation.notice_number == "ABC123456"
    assert len(reservation.code) == 10 and not reservation.code.isdigit()
    event = AuditEvent.objects.get(action="reservation.book")
    assert event.subject_id == reservation.code
    assert event.actor == "resident:web"


def test_a_full_slot_refuses_with_409_and_offers_the_nearest_free_slots(
    main_office: Site, card_pickup: Procedure
) -> None:
    full = factories.slot(main_office, card_pickup, time="10:00", capacity=1, booked=1)
    later = factories.slot(main_office, card_pickup, time="10:20", capacity=1)
    far = factories.slot(main_office, card_pickup, time="15:00", capacity=1)
    earlier = factories.slot(main_office, card_pickup, time="09:40", capacity=1)
    factories.slot(main_office, card_pickup, time="09:20", capacity=1, booked=1)
    with pytest.raises(SlotFullError) as caught:
        _book(full)
    assert caught.value.status == 409 and caught.value.code == "slot_full"
    assert [s.pk for s in caught.value.alternatives] == [earlier.pk, later.pk, far.pk]
    assert Reservation.objects.count() == 0


def test_nearest_free_slots_skip_what_cannot_take_the_booking(
    municipality: Municipality, main_office: Site, card_pickup: Procedure, cert_renewal: Procedure
) -> None:
    from madoguchi.reservations.selectors import nearest_free_slots
    from tests.offices.factories import site

    full = factories.slot(main_office, card_pickup, time="10:00", capacity=2, booked=2)
    one_seat = factories.slot(main_office, card_pickup, time="10:20", capacity=2, booked=1)
    two_seats = factories.slot(main_office, card_pickup, time="11:40", capacity=3, booked=1)
    withdrawn = factories.slot(main_office, card_pickup, time="09:40", capacity=2)
    Slot.objects.filter(pk=withdrawn.pk).update(is_offered=False)
    factories.slot(main_office, cert_renewal, time="10:40", capacity=2)  # other procedure
    elsewhere = site(municipality, name="北支所")
    elsewhere.procedures.set([card_pickup])
    factories.slot(elsewhere, card_pickup, time="10:40", capacity=2)  # other site
    too_soon = VISIT_DAY - dt.timedelta(days=5)  # tomorrow: before the 3-day minimum
    too_late = VISIT_DAY + dt.timedelta(days=60)  # past the 45-day window
    factories.slot(main_office, card_pickup, day=too_soon, capacity=2)
    factories.slot(main_office, card_pickup, day=too_late, capacity=2)
    next_day = factories.slot(
        main_office, card_pickup, day=VISIT_DAY + dt.timedelta(days=1), capacity=2
    )
    full.site = main_office
    assert [s.pk for s in nearest_free_slots(slot=full)] == [one_seat.pk, two_seats.pk, next_day.pk]
    assert [s.pk for s in nearest_free_slots(slot=full, seats=2)] == [two_seats.pk, next_day.pk]
    assert [s.pk for s in nearest_free_slots(slot=full, limit=1)] == [one_seat.pk]
    assert nearest_free_slots(slot=full)[0].remaining == 1


def test_notice_numbers_are_normalised_from_full_width_and_hyphens(
    main_office: Site, card_pickup: Procedure
) -> None:
    slot = factories.slot(main_office, card_pickup)
    reservation = _book(slot, pickup(notice="ａｂｃ－１２３４５６"))
    assert reservation.notice_number == "ABC123456"


@pytest.mark.parametrize("notice", ["AB123456", "ABCD12345", "ABC12345X", "", "あいう123456"])
def test_malformed_notice_numbers_are_refused(
    main_office: Site, card_pickup: Procedure, notice: str
) -> None:
    slot = factories.slot(main_office, card_pickup)
    error = _error(lambda: _book(slot, pickup(notice=notice)))
    assert error.status == 422
    assert error.code in ("invalid_notice_number", "notice_number_required")


def test_kana_names_accept_hiragana_and_half_width_katakana(
    main_office: Site, cert_renewal: Procedure
) -> None:
    slot = factories.slot(main_office, cert_renewal)
    reservation = _book(slot, renewal(family="やまだ", given="ﾊﾅｺ"))
    assert (reservation.family_name_kana, reservation.given_name_kana) == ("ヤマダ", "ハナコ")


def test_an_individual_number_in_any_field_is_refused_and_nothing_is_stored(
    main_office: Site, cert_renewal: Procedure
) -> None:
    slot = factories.slot(main_office, cert_renewal)
    for field in ("phone", "email", "family_name_kana"):
        values = {"phone": "", "email": "a@example.jp", "family_name_kana": "ヤマダ"}
        values[field] = "1234 5678 9018"  # a valid check digit
        applicant = services.Applicant(
            birth_date=dt.date(1975, 3, 3), given_name_kana="ハナコ", **values
        )
        error = _error(lambda a=applicant: _book(slot, a))
        assert (error.status, error.code) == (422, "individual_number")
        assert "個人番号" in error.message
    assert Reservation.objects.count() == 0


def test_cert_renewal_needs_a_kana_name_and_a_contact(
    main_office: Site, cert_renewal: Procedure
) -> None:
    slot = factories.slot(main_office, cert_renewal)
    assert _error(lambda: _book(slot, renewal(email=""))).code == "contact_required"
    assert _error(lambda: _book(slot, renewal(given=""))).code == "kana_name_required"


def test_past_slots_and_slots_outside_the_window_are_refused(
    main_office: Site, card_pickup: Procedure, frozen: time_machine.Traveller
) -> None:
    too_soon = factories.slot(main_office, card_pickup, day=dt.date(2026, 12, 3))
    too_late = factories.slot(main_office, card_pickup, day=dt.date(2027, 1, 20))
    past = factories.slot(main_office, card_pickup, day=dt.date(2026, 11, 30))
    assert _error(lambda: _book(too_soon)).code == "outside_window"
    assert _error(lambda: _book(too_late)).code == "outside_window"
    assert _error(lambda: _book(past)).code == "slot_in_past"


def test_staff_can_book_by_phone_for_tomorrow_through_the_same_service(
    main_office: Site, card_pickup: Procedure
) -> None:
    user = StaffUser.objects.create(username="clerk")
    tomorrow = factories.slot(main_office, card_pickup, day=dt.date(2026, 12, 2))
    reservation = _book(tomorrow, actor=Actor.staff(user), channel="phone")
    assert reservation.channel == "phone"
    assert AuditEvent.objects.get(action="reservation.book").actor.startswith("staff:")


def test_a_double_submit_returns_the_same_reservation(
    main_office: Site, card_pickup: Procedure
) -> None:
    slot = factories.slot(main_office, card_pickup, capacity=3)
    first = _book(slot)
    again = _book(slot, pickup(notice="abc123456"))
    slot.refresh_from_db()
    assert again.pk == first.pk
    assert slot.booked == 1


def test_one_person_holds_at_most_one_active_booking_per_procedure(
    main_office: Site, card_pickup: Procedure
) -> None:
    first_slot = factories.slot(main_office, card_pickup, time="10:00")
    other_slot = factories.slot(main_office, card_pickup, time="11:00")
    _book(first_slot)
    error = _error(lambda: _book(other_slot))
    assert (error.status, error.code) == (409, "already_booked")


def test_the_same_kana_name_and_birth_date_is_one_person(
    main_office: Site, cert_renewal: Procedure
) -> None:
    first_slot = factories.slot(main_office, cert_renewal, time="10:00")
    other_slot = factories.slot(main_office, cert_renewal, time="11:00")
    _book(first_slot, renewal())
    assert _error(lambda: _book(other_slot, renewal(family="ﾔﾏﾀﾞ"))).code == "already_booked"


def test_a_family_with_a_member_booked_already_is_told_which_member(
    main_office: Site, cert_renewal: Procedure, card_pickup: Procedure
) -> None:
    """The lead is not told "you are booked already" when it is their child who is: the
    refusal names the member (kana name, or notice number), and nothing is written."""
    first_slot = factories.slot(main_office, cert_renewal, time="10:00", capacity=3)
    family_slot = factories.slot(main_office, cert_renewal, time="11:00", capacity=3)
    child = renewal(given="タロウ", birth=dt.date(2012, 4, 1))
    _book(first_slot, child)
    error = _error(
        lambda: book_group_reservation(
            slot_id=family_slot.pk,
            procedure_code="cert_renewal",
            applicants=[renewal(), child],
            actor=RESIDENT,
        )
    )
    assert (error.status, error.code) == (409, "already_booked")
    assert "ヤマダ タロウ" in error.message and "ハナコ" not in error.message
    assert Reservation.objects.count() == 1
    pickup_slot = factories.slot(main_office, card_pickup, time="10:00", capacity=3)
    other_pickup_slot = factories.slot(main_office, card_pickup, time="11:00", capacity=3)
    _book(pickup_slot, pickup("ABC000002", birth=dt.date(2015, 1, 1)))
    error = _error(
        lambda: book_group_reservation(
            slot_id=other_pickup_slot.pk,
            procedure_code="card_pickup",
            applicants=[pickup("ABC000001"), pickup("ABC000002", birth=dt.date(2015, 1, 1))],
            actor=RESIDENT,
        )
    )
    assert error.code == "already_booked"
    assert "ABC000002" in error.message and "ABC000001" not in error.message


def test_a_family_books_together_or_not_at_all(main_office: Site, card_pickup: Procedure) -> None:
    slot = factories.slot(main_office, card_pickup, capacity=3)
    family = [pickup("ABC000001"), pickup("ABC000002", birth=dt.date(2015, 1, 1))]
    members = book_group_reservation(
        slot_id=slot.pk, procedure_code="card_pickup", applicants=family, actor=RESIDENT
    )
    assert len({m.group_code for m in members}) == 1
    assert members[0].code == members[0].group_code
    three_more = [pickup(f"ABC00001{n}") for n in range(2)]
    with pytest.raises(SlotFullError):
        book_group_reservation(
            slot_id=slot.pk, procedure_code="card_pickup", applicants=three_more, actor=RESIDENT
        )
    slot.refresh_from_db()
    assert slot.booked == 2
    assert Reservation.objects.count() == 2


def test_cancelled_reservation_frees_its_seat(main_office: Site, card_pickup: Procedure) -> None:
    slot = factories.slot(main_office, card_pickup, capacity=1)
    reservation = _book(slot)
    cancelled = cancel_reservation(code=reservation.code, actor=RESIDENT)
    slot.refresh_from_db()
    assert cancelled.status == ReservationStatus.CANCELLED
    assert slot.booked == 0
    assert _book(slot, pickup("XYZ999999")).status == ReservationStatus.BOOKED


def test_residents_cannot_cancel_after_the_cutoff_but_staff_can(
    main_office: Site, card_pickup: Procedure, frozen: time_machine.Traveller
) -> None:
    slot = factories.slot(main_office, card_pickup)
    reservation = _book(slot)
    frozen.move_to(dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    error = _error(lambda: cancel_reservation(code=reservation.code, actor=RESIDENT))
    assert (error.status, error.code) == (409, "past_cutoff")
    user = StaffUser.objects.create(username="clerk")
    assert cancel_reservation(code=reservation.code, actor=Actor.staff(user)).status == "cancelled"


def test_a_cancelled_reservation_cannot_be_cancelled_again(
    main_office: Site, card_pickup: Procedure
) -> None:
    reservation = _book(factories.slot(main_office, card_pickup))
    cancel_reservation(code=reservation.code, actor=RESIDENT)
    error = _error(lambda: cancel_reservation(code=reservation.code, actor=RESIDENT))
    assert (error.status, error.code) == (409, "invalid_transition")


def test_reschedule_moves_the_seat_in_one_step(main_office: Site, card_pickup: Procedure) -> None:
    old = factories.slot(main_office, card_pickup, time="10:00")
    new = factories.slot(main_office, card_pickup, time="14:00")
    reservation = _book(old)
    moved = reschedule_reservation(code=reservation.code, slot_id=new.pk, actor=RESIDENT)
    old.refresh_from_db()
    new.refresh_from_db()
    assert moved.slot_id == new.pk
    assert (old.booked, new.booked) == (0, 1)
    assert AuditEvent.objects.filter(action="reservation.reschedule").count() == 1


def test_reschedule_to_a_full_slot_keeps_the_old_booking(
    main_office: Site, card_pickup: Procedure
) -> None:
    old = factories.slot(main_office, card_pickup, time="10:00")
    full = factories.slot(main_office, card_pickup, time="14:00", capacity=1, booked=1)
    reservation = _book(old)
    with pytest.raises(SlotFullError):
        reschedule_reservation(code=reservation.code, slot_id=full.pk, actor=RESIDENT)
    reservation.refresh_from_db()
    old.refresh_from_db()
    assert reservation.slot_id == old.pk and old.booked == 1


def test_reschedule_refuses_a_slot_of_another_procedure(
    main_office: Site, card_pickup: Procedure, cert_renewal: Procedure
) -> None:
    reservation = _book(factories.slot(main_office, card_pickup))
    other = factories.slot(main_office, cert_renewal, time="15:00")
    error = _error(
        lambda: reschedule_reservation(code=reservation.code, slot_id=other.pk, actor=RESIDENT)
    )
    assert error.code == "invalid_slot"


def _revision(reservation: Reservation) -> int:
    return Reservation.objects.values_list("revision", flat=True).get(pk=reservation.pk)


def test_a_bookings_revision_goes_up_with_each_new_time_and_its_cancellation(
    main_office: Site, card_pickup: Procedure
) -> None:
    """The revision — the SEQUENCE of the booking's .ics (RFC 5545 3.8.7.4) — is 0 when booked
    (by either implementation of the booking) and one up with each change the calendar entry
    shows; a move to the slot it has and a refused move change nothing."""
    first = factories.slot(main_office, card_pickup, time="10:00")
    reservation = _book(first)
    assert reservation.revision == 0 and _revision(reservation) == 0
    reschedule_reservation(code=reservation.code, slot_id=first.pk, actor=RESIDENT)
    assert _revision(reservation) == 0
    revisions = []
    for time in ("11:00", "14:00"):
        later = factories.slot(main_office, card_pickup, time=time)
        moved = reschedule_reservation(code=reservation.code, slot_id=later.pk, actor=RESIDENT)
        revisions.append((moved.revision, _revision(reservation)))
    assert revisions == [(1, 1), (2, 2)]
    full = factories.slot(main_office, card_pickup, time="15:00", capacity=1, booked=1)
    with pytest.raises(SlotFullError):
        reschedule_reservation(code=reservation.code, slot_id=full.pk, actor=RESIDENT)
    assert _revision(reservation) == 2
    assert cancel_reservation(code=reservation.code, actor=RESIDENT).revision == 3
    assert _revision(reservation) == 3


def test_a_visits_check_in_and_end_keep_the_revision_and_a_cancelled_visit_raises_it(
    main_office: Site, cert_renewal: Procedure, frozen: time_machine.Traveller
) -> None:
    """Checking in, being served and not coming leave the calendar entry as it was (a booked
    visit, CONFIRMED); a checked-in visit cancelled with its queue ticket cancels it."""
    slot = factories.slot(main_office, cert_renewal, capacity=3)
    people = [renewal(given=given, email=f"{i}@example.jp") for i, given in enumerate("アイウ")]
    served, absent, dropped = (_book(slot, person) for person in people)
    clerk = StaffUser.objects.create(username="clerk", municipality=main_office.municipality)
    staff = Actor.staff(clerk)
    frozen.move_to(dt.datetime(2026, 12, 7, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    for reservation in (served, dropped):
        check_in_reservation(code=reservation.code, actor=staff)
    mark_served(code=served.code, actor=staff)
    mark_no_show(code=absent.code, actor=staff)
    services.close_checked_in_visit(
        code=dropped.code, target=ReservationStatus.CANCELLED, actor=staff
    )
    assert [_revision(r) for r in (served, absent, dropped)] == [0, 0, 1]
    assert Reservation.objects.get(pk=dropped.pk).status == ReservationStatus.CANCELLED


def test_the_counter_checks_in_and_serves_on_the_day(
    municipality: Municipality,
    main_office: Site,
    card_pickup: Procedure,
    frozen: time_machine.Traveller,
) -> None:
    reservation = _book(factories.slot(main_office, card_pickup))
    clerk = StaffUser.objects.create(username="clerk", municipality=main_office.municipality)
    staff = Actor.staff(clerk)
    assert (
        _error(lambda: check_in_reservation(code=reservation.code, actor=staff)).code == "not_today"
    )
    frozen.move_to(dt.datetime(2026, 12, 7, 9, 55, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    assert check_in_reservation(code=reservation.code, actor=staff).status == "checked_in"
    # A card pick-up is done only once the card is handed over.
    assert _error(lambda: mark_served(code=reservation.code, actor=staff)).code == (
        "card_not_handed_over"
    )
    hand_over_card(
        card=card_by_reservation(reservation.code),  # the booked card
        actor=staff,
        staff_user=clerk,
        is_proxy=False,
        id_document_class="one_photo",
    )
    served = mark_served(code=reservation.code, actor=staff)
    assert served.status == "served" and served.finished_at is not None
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions[-3:] == ["reservation.check_in", "card.hand_over", "reservation.serve"]


def test_no_show_only_after_the_slot_started_and_keeps_the_seat(
    main_office: Site, card_pickup: Procedure, frozen: time_machine.Traveller
) -> None:
    slot = factories.slot(main_office, card_pickup)
    reservation = _book(slot)
    clerk = StaffUser.objects.create(username="clerk", municipality=main_office.municipality)
    staff = Actor.staff(clerk)
    assert _error(lambda: mark_no_show(code=reservation.code, actor=staff)).code == "too_early"
    frozen.move_to(dt.datetime(2026, 12, 7, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    assert mark_no_show(code=reservation.code, actor=staff).status == "no_show"
    slot.refresh_from_db()
    assert slot.booked == 1
    assert (
        _error(lambda: mark_served(code=reservation.code, actor=staff)).code == "invalid_transition"
    )


def test_a_served_person_may_book_the_same_procedure_again(
    main_office: Site, cert_renewal: Procedure, frozen: time_machine.Traveller
) -> None:
    reservation = _book(factories.slot(main_office, cert_renewal), renewal())
    clerk = StaffUser.objects.create(username="clerk", municipality=main_office.municipality)
    staff = Actor.staff(clerk)
    frozen.move_to(dt.datetime(2026, 12, 7, 9, 55, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    check_in_reservation(code=reservation.code, actor=staff)
    mark_served(code=reservation.code, actor=staff)
    later = factories.slot(main_office, cert_renewal, day=dt.date(2026, 12, 14))
    assert _book(later, renewal()).pk != reservation.pk


def test_the_check_constraint_refuses_an_overbooked_slot(
    main_office: Site, card_pickup: Procedure
) -> None:
    from django.db import IntegrityError, transaction

    slot = factories.slot(main_office, card_pickup, capacity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(booked=2)


def test_an_unknown_notice_and_a_wrong_birth_date_get_the_same_404(
    main_office: Site, card_pickup: Procedure
) -> None:
    slot = factories.slot(main_office, card_pickup)
    unknown = _error(lambda: _book(slot, pickup(notice="QQQ111111")))
    wrong_birth = _error(lambda: _book(slot, pickup(birth=dt.date(1980, 5, 18))))
    for error in (unknown, wrong_birth):
        assert (error.status, error.code, error.message) == (
            404,
            "not_found",
            selectors.NOT_FOUND_MESSAGE,
        )


def test_booking_a_pickup_marks_the_card_booked_and_cancelling_frees_it(
    main_office: Site, card_pickup: Procedure
) -> None:

    reservation = _book(factories.slot(main_office, card_pickup))
    card = CardRecord.objects.get(notice_number="ABC123456")
    assert (card.status, card.reservation_code) == ("booked", reservation.code)
    cancel_reservation(code=reservation.code, actor=RESIDENT)
    card.refresh_from_db()
    assert card.status == "notice_issued"
    assert VISIT_DAY


def test_a_card_booked_without_a_reservation_is_refused_and_nothing_is_written(
    municipality: Municipality, main_office: Site, card_pickup: Procedure
) -> None:
    from tests.issuance.factories import card as issuance_card

    issuance_card(
        municipality,
        status=CardStatus.BOOKED,
        notice_number="ABD222222",
        birth_date=dt.date(1980, 5, 17),
    )
    slot = factories.slot(main_office, card_pickup, capacity=2)
    events = AuditEvent.objects.count()
    error = _error(lambda: _book(slot, pickup(notice="ABD222222")))
    assert (error.status, error.code) == (409, "card_not_bookable")
    slot.refresh_from_db()
    assert slot.booked == 0
    assert not Reservation.objects.exists()
    assert AuditEvent.objects.count() == events


def test_booking_rules_saved_by_staff_apply_at_once_with_the_reference_cache_on(
    settings: Any, municipality: Municipality, main_office: Site, card_pickup: Procedure
) -> None:
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60
    slot = factories.slot(main_office, card_pickup, capacity=5)  # 6 days ahead
    _book(slot)  # reads and caches the site, municipality and procedure
    municipality.booking_window_min_days = 10
    municipality.save()
    error = _error(lambda: _book(slot, pickup(notice="ABC000001")))
    assert error.code == "outside_window"


def test_a_card_pickup_booking_runs_a_fixed_handful_of_statements(
    main_office: Site, card_pickup: Procedure, booking_path: str, django_assert_num_queries: Any
) -> None:
    """The booking path is the rush's hot path (decisions 0008, 0011): slot, site and procedure
    reads (the latter two cached in production), then with the one statement ONE statement —
    card lock, seat claim, reservation, card move, two audit events — and on the ORM the card
    lock, claim, reservation, card move and two audit events one after another; each inside a
    savepoint here (SAVEPOINT, RELEASE), as inside any caller's transaction.
    """
    slot = factories.slot(main_office, card_pickup, capacity=2)
    transaction = 2 + (1 if booking_path == "statement" else 6)
    with django_assert_num_queries(3 + transaction):
        _book(slot)
    slot.refresh_from_db()
    assert slot.booked == 1


@pytest.mark.parametrize("status", [CardStatus.NOTICE_ISSUED, CardStatus.REMINDED])
def test_the_card_event_records_the_status_the_booking_found(
    municipality: Municipality, main_office: Site, card_pickup: Procedure, status: str
) -> None:
    """On PostgreSQL the card's event is written from the row the statement locked: the same
    event as the step-by-step path writes on SQLite, and the chain verifies."""
    from madoguchi.core.audit import seal_audit_events, verify_audit_chain

    CardRecord.objects.filter(notice_number="ABC123456").update(status=status)
    reservation = _book(factories.slot(main_office, card_pickup))
    card = CardRecord.objects.get(notice_number="ABC123456")
    event = AuditEvent.objects.get(action="card.book")
    assert (event.subject_type, event.subject_id, event.actor) == (
        "issuance.CardRecord",
        str(card.pk),
        RESIDENT.label,
    )
    assert event.before == {"status": status}
    assert event.after == {"status": "booked", "reservation": reservation.code}
    assert card.booked_at is not None and card.updated_at == card.booked_at
    seal_audit_events()
    report = verify_audit_chain()
    assert report.intact and report.checked >= 2 and report.pending == 0


def test_a_card_of_another_municipality_gets_the_uniform_404(
    main_office: Site, card_pickup: Procedure
) -> None:
    from tests.offices.factories import municipality

    elsewhere = municipality(code="011002", name="札幌市")
    factories.card(elsewhere, "ELS111111")
    slot = factories.slot(main_office, card_pickup)
    error = _error(lambda: _book(slot, pickup(notice="ELS111111")))
    assert (error.status, error.code) == (404, "not_found")
    assert CardRecord.objects.get(notice_number="ELS111111").status == CardStatus.NOTICE_ISSUED
    slot.refresh_from_db()
    assert slot.booked == 0 and not Reservation.objects.exists()


def test_a_family_with_one_unknown_notice_writes_nothing(
    main_office: Site, card_pickup: Procedure
) -> None:
    slot = factories.slot(main_office, card_pickup, capacity=3)
    events = AuditEvent.objects.count()
    family = [pickup("ABC000001"), pickup("QQQ111111")]
    with pytest.raises(DomainError) as caught:
        book_group_reservation(
            slot_id=slot.pk, procedure_code="card_pickup", applicants=family, actor=RESIDENT
        )
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    slot.refresh_from_db()
    assert slot.booked == 0 and not Reservation.objects.exists()
    assert CardRecord.objects.get(notice_number="ABC000001").status == CardStatus.NOTICE_ISSUED
    assert AuditEvent.objects.count() == events


def test_a_cached_slot_that_stops_being_offered_takes_no_more_bookings(
    settings: Any, main_office: Site, card_pickup: Procedure
) -> None:
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60
    slot = factories.slot(main_office, card_pickup, capacity=5)
    _book(slot)  # the slot is now cached as offered
    Slot.objects.filter(pk=slot.pk).update(is_offered=False)  # a regeneration, no signal
    error = _error(lambda: _book(slot, pickup(notice="ABC000001")))
    assert (error.status, error.code) == (422, "invalid_slot")
    slot.refresh_from_db()
    assert slot.booked == 1


def test_rescheduling_to_a_withdrawn_cached_slot_is_refused_and_keeps_the_booking(
    settings: Any, main_office: Site, card_pickup: Procedure
) -> None:
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60
    first = factories.slot(main_office, card_pickup, time="10:00")
    target = factories.slot(main_office, card_pickup, time="11:00")
    reservation = _book(first)
    _book(target, pickup(notice="ABC000001"))  # caches the target slot as offered
    Slot.objects.filter(pk=target.pk).update(is_offered=False)
    error = _error(
        lambda: reschedule_reservation(code=reservation.code, slot_id=target.pk, actor=RESIDENT)
    )
    assert (error.status, error.code) == (422, "invalid_slot")
    reservation.refresh_from_db()
    assert reservation.slot_id == first.pk


def test_reservation_codes_use_the_whole_alphabet_in_every_position() -> None:
    from madoguchi.reservations.normalize import CODE_ALPHABET
    from madoguchi.reservations.services import new_reservation_code

    codes = [new_reservation_code() for _ in range(3000)]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 10 and set(code) <= set(CODE_ALPHABET) for code in codes)
    for position in range(10):  # ~115 draws per symbol and position: none can be missing
        assert {code[position] for code in codes} == set(CODE_ALPHABET)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (CardStatus.HANDED_OVER, "card_handed_over"),
        (CardStatus.DESTROYED, "card_destroyed"),
    ],
)
def test_a_card_past_its_booking_is_named_as_such_not_as_a_typing_mistake(
    main_office: Site, card_pickup: Procedure, municipality: Municipality, status: str, code: str
) -> None:
    """A notice number and birth date that match a card handed over already, or destroyed
    after the deadline, say so (the resident typed them right; "check the number" would send
    them round in circles) — and name the number, since a family books several at once."""
    card = CardRecord.objects.get(notice_number="ABC000010")
    CardRecord.objects.filter(pk=card.pk).update(
        status=status, is_proxy=False, handed_over_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    )
    slot = factories.slot(main_office, card_pickup, capacity=3)
    family = [pickup("ABC000001"), pickup("abc-000010")]
    events = AuditEvent.objects.count()
    with pytest.raises(DomainError) as caught:
        book_group_reservation(
            slot_id=slot.pk, procedure_code="card_pickup", applicants=family, actor=RESIDENT
        )
    assert (caught.value.status, caught.value.code) == (409, code)
    assert "ABC-000010" in caught.value.message
    slot.refresh_from_db()
    assert slot.booked == 0 and not Reservation.objects.exists()
    assert AuditEvent.objects.count() == events
    # the birth date still has to match: anything else stays the uniform 404
    error = _error(lambda: _book(slot, pickup("ABC000010", birth=dt.date(1980, 5, 18))))
    assert (error.status, error.code) == (404, "not_found")


def test_a_booking_missed_yesterday_is_closed_at_night_and_frees_the_resident_and_the_card(
    main_office: Site, card_pickup: Procedure, cert_renewal: Procedure, frozen: Any
) -> None:
    """A resident who never came stays 'booked' no more after the night: the nightly job ends
    the booking as a no-show (audited, the card back to waiting for a booking), so the same
    notice and the same person can book again; today's bookings are left alone."""
    from django.core.management import call_command

    missed = _book(factories.slot(main_office, card_pickup, day=VISIT_DAY))
    renewal_missed = _book(factories.slot(main_office, cert_renewal, day=VISIT_DAY), renewal())
    next_day = VISIT_DAY + dt.timedelta(days=1)
    today = _book(
        factories.slot(main_office, cert_renewal, day=next_day + dt.timedelta(days=3)),
        renewal(given="タロウ"),
    )
    frozen.move_to(clock.at(next_day, dt.time(0, 30)))
    call_command("close_queue_days")
    call_command("close_queue_days")  # idempotent
    statuses = dict(Reservation.objects.values_list("code", "status"))
    assert statuses[missed.code] == ReservationStatus.NO_SHOW
    assert statuses[renewal_missed.code] == ReservationStatus.NO_SHOW
    assert statuses[today.code] == ReservationStatus.BOOKED
    assert CardRecord.objects.get(notice_number="ABC123456").status == CardStatus.NOTICE_ISSUED
    events = AuditEvent.objects.filter(
        action="reservation.no_show", actor="system:close-queue-days"
    )
    assert events.count() == 2
    later = next_day + dt.timedelta(days=5)
    assert _book(factories.slot(main_office, card_pickup, day=later)).status == "booked"
    assert _book(factories.slot(main_office, cert_renewal, day=later), renewal()).code


def test_booked_counts_every_reservation_not_cancelled_through_every_service(
    main_office: Site, cert_renewal: Procedure, frozen: time_machine.Traveller
) -> None:
    """The rule `reservations/models.py` and `services.py` state, checked after each service
    that moves a reservation: `Slot.booked` is the number of the slot's reservations not
    cancelled — a cancellation or a reschedule gives the seat back, a no-show (marked, or left
    to the nightly clean-up) and a check-in keep it."""
    first = factories.slot(main_office, cert_renewal, capacity=8)
    second = factories.slot(main_office, cert_renewal, time="11:00", capacity=8)
    clerk = StaffUser.objects.create(username="clerk", municipality=main_office.municipality)
    staff = Actor.staff(clerk)

    def holds() -> None:
        for slot in (first, second):
            slot.refresh_from_db()
            live = Reservation.objects.filter(slot=slot).exclude(status=ReservationStatus.CANCELLED)
            assert slot.booked == live.count(), (slot.starts_at, slot.booked)

    people = [
        renewal(family="アオキ", given=given, birth=dt.date(1970, 1, 1 + n))
        for n, given in enumerate(("イチロウ", "ジロウ", "サブロウ", "シロウ", "ゴロウ"))
    ]
    one, two, three = (_book(first, person) for person in people[:3])
    holds()
    book_group_reservation(
        slot_id=first.pk, procedure_code="cert_renewal", applicants=people[3:], actor=RESIDENT
    )
    holds()
    cancel_reservation(code=one.code, actor=RESIDENT)
    holds()
    reschedule_reservation(code=two.code, slot_id=second.pk, actor=RESIDENT)
    holds()
    frozen.move_to(clock.at(VISIT_DAY, dt.time(9, 0)))
    check_in_reservation(code=three.code, actor=staff)
    holds()
    frozen.move_to(clock.at(VISIT_DAY, dt.time(11, 30)))
    mark_no_show(code=two.code, actor=staff)
    holds()
    services.close_missed_bookings(before=VISIT_DAY + dt.timedelta(days=1), actor=staff)
    holds()
    statuses = sorted(Reservation.objects.values_list("status", flat=True))
    assert statuses == ["cancelled", "checked_in", "no_show", "no_show", "no_show"]
    assert (first.booked, second.booked) == (3, 1)
