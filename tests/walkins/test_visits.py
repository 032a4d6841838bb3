"""One visit: a booked visitor's reservation and queue ticket end together, whichever screen
ends them, each record changed once with one audit event — or nothing changes at all."""

from __future__ import annotations

import ast
import datetime as dt
import functools
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import madoguchi
from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.issuance.models import (
    PHOTO_ID_DOCUMENTS,
    CardHandOver,
    CardRecord,
    CardStatus,
    ECertificates,
    IdDocument,
    OldCard,
    PinSetting,
    ProxyDocument,
)
from madoguchi.issuance.services import HandOverChecks
from madoguchi.offices.models import Counter
from madoguchi.reservations import services as reservations
from madoguchi.reservations.models import Reservation, ReservationStatus, Slot
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins import visits
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.services import (
    call_next_ticket,
    cancel_ticket,
    check_in_booked_visitor,
    close_past_queue_days,
    finish_ticket,
    mark_ticket_no_show,
    start_serving,
)
from tests.conftest import site_official
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, VISIT_DAY

pytestmark = pytest.mark.django_db

ON_THE_DAY = clock.at(VISIT_DAY, dt.time(9, 55))
CLERK = Actor.system("counter-test")
HOLDER_CHECKS = HandOverChecks(
    is_proxy=False,
    id_documents=(IdDocument.DRIVING_LICENCE,),
    old_card=OldCard.COLLECTED_AND_PUNCHED,
    pin_setting=PinSetting.SET_BY_HOLDER,
    e_certificates=ECertificates.BOTH,
)


@pytest.fixture
def official(city: factories.City) -> StaffUser:
    return site_official(city.site, "desk")


def renewal(city: factories.City) -> Reservation:
    slot = factories.slot(city.site, city.renewal, time="10:00")
    return reservations.book_reservation(
        slot_id=slot.pk,
        procedure_code="cert_renewal",
        applicant=reservations.Applicant(
            birth_date=BIRTH,
            family_name_kana="ヤマダ",
            given_name_kana="タロウ",
            phone="0312345678",
        ),
        actor=Actor.resident(),
    )


def at_counter(city: factories.City, booked: Reservation, frozen: Any) -> QueueTicket:
    """Check the visitor in on the day and call them to the first counter."""
    frozen.move_to(ON_THE_DAY)
    ticket = check_in_booked_visitor(code=booked.code, actor=CLERK)
    counter = Counter.objects.filter(site=city.site).order_by("pk").first()
    assert counter is not None
    called = call_next_ticket(site=city.site, counter=counter, actor=CLERK)
    assert called is not None and called.pk == ticket.pk
    return called


def events_since(mark: int) -> list[tuple[str, str]]:
    return sorted(
        (e.action, e.subject_type) for e in AuditEvent.objects.filter(pk__gt=mark).order_by("pk")
    )


def last_event() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def states(booked: Reservation) -> tuple[str, str, str | None]:
    booked.refresh_from_db()
    ticket = QueueTicket.objects.get(reservation=booked)
    card = CardRecord.objects.filter(notice_number=booked.notice_number).first()
    return booked.status, ticket.status, card.status if card else None


# --- each transition closes both records, one audit event each -----------------------------


def test_the_hand_over_closes_card_ticket_and_booking_with_one_event_each(
    city: factories.City, frozen: Any, official: StaffUser
) -> None:
    booked = factories.book_card_pickup(city)
    at_counter(city, booked, frozen)
    mark = last_event()

    visits.hand_over_card_at_visit(
        code=booked.code, actor=Actor.staff(official), staff_user=official, checks=HOLDER_CHECKS
    )

    assert states(booked) == (
        ReservationStatus.SERVED,
        TicketStatus.DONE,
        CardStatus.HANDED_OVER,
    )
    assert events_since(mark) == [
        ("card.hand_over", "issuance.CardRecord"),
        ("reservation.serve", "reservations.Reservation"),
        ("ticket.done", "walkins.QueueTicket"),
    ]
    record = CardHandOver.objects.get(card__notice_number=booked.notice_number)
    assert record.reservation_code == booked.code
    assert record.handed_over_by == official
    assert record.id_documents == [IdDocument.DRIVING_LICENCE]
    assert record.id_document_class == "one_photo"
    assert (record.old_card, record.pin_setting, record.e_certificates) == (
        OldCard.COLLECTED_AND_PUNCHED,
        PinSetting.SET_BY_HOLDER,
        ECertificates.BOTH,
    )
    event = AuditEvent.objects.get(action="card.hand_over")
    assert (event.after or {})["pin_setting"] == PinSetting.SET_BY_HOLDER
    assert (event.after or {})["old_card"] == OldCard.COLLECTED_AND_PUNCHED


def test_a_finished_renewal_closes_ticket_and_booking(city: factories.City, frozen: Any) -> None:
    booked = renewal(city)
    ticket = at_counter(city, booked, frozen)
    start_serving(ticket=ticket, actor=CLERK)
    mark = last_event()

    visits.serve_visit(code=booked.code, actor=CLERK)

    assert states(booked) == (ReservationStatus.SERVED, TicketStatus.DONE, None)
    assert events_since(mark) == [
        ("reservation.serve", "reservations.Reservation"),
        ("ticket.done", "walkins.QueueTicket"),
    ]


def test_finishing_the_ticket_on_the_calling_page_serves_the_booking(
    city: factories.City, frozen: Any
) -> None:
    booked = renewal(city)
    ticket = at_counter(city, booked, frozen)
    start_serving(ticket=ticket, actor=CLERK)
    mark = last_event()

    finish_ticket(ticket=ticket, actor=CLERK)

    assert states(booked) == (ReservationStatus.SERVED, TicketStatus.DONE, None)
    assert len(events_since(mark)) == 2


@pytest.mark.parametrize("start", ["day view", "calling page"])
def test_a_no_show_closes_ticket_and_booking_and_frees_the_card(
    city: factories.City, frozen: Any, start: str
) -> None:
    booked = factories.book_card_pickup(city)
    ticket = at_counter(city, booked, frozen)
    mark = last_event()

    if start == "day view":
        visits.no_show_visit(code=booked.code, actor=CLERK)
    else:
        mark_ticket_no_show(ticket=ticket, actor=CLERK)

    assert states(booked) == (
        ReservationStatus.NO_SHOW,
        TicketStatus.NO_SHOW,
        CardStatus.NOTICE_ISSUED,
    )
    assert events_since(mark) == [
        ("card.unbook", "issuance.CardRecord"),
        ("reservation.no_show", "reservations.Reservation"),
        ("ticket.no_show", "walkins.QueueTicket"),
    ]


@pytest.mark.parametrize("called", [False, True], ids=["waiting", "called"])
def test_cancelling_the_ticket_cancels_the_booking_and_gives_seat_and_card_back(
    city: factories.City, frozen: Any, called: bool
) -> None:
    booked = factories.book_card_pickup(city)
    if called:
        ticket = at_counter(city, booked, frozen)
    else:
        frozen.move_to(ON_THE_DAY)
        ticket = check_in_booked_visitor(code=booked.code, actor=CLERK)
    seats = Slot.objects.get(pk=booked.slot_id).booked
    mark = last_event()

    cancel_ticket(ticket=ticket, actor=Actor.resident("web"))

    assert states(booked) == (
        ReservationStatus.CANCELLED,
        TicketStatus.CANCELLED,
        CardStatus.NOTICE_ISSUED,
    )
    assert Slot.objects.get(pk=booked.slot_id).booked == seats - 1
    assert events_since(mark) == [
        ("card.unbook", "issuance.CardRecord"),
        ("reservation.cancel", "reservations.Reservation"),
        ("ticket.cancelled", "walkins.QueueTicket"),
    ]


def test_the_nightly_clean_up_closes_the_visits_left_open(
    city: factories.City, frozen: Any
) -> None:
    waiting = renewal(city)
    frozen.move_to(ON_THE_DAY)
    check_in_booked_visitor(code=waiting.code, actor=CLERK)

    close_past_queue_days(before=VISIT_DAY + dt.timedelta(days=1), actor=Actor.system("night"))

    assert states(waiting) == (ReservationStatus.CANCELLED, TicketStatus.CANCELLED, None)


# --- refusals change nothing ------------------------------------------------------------------


def test_a_card_pick_up_is_not_finished_without_the_hand_over(
    city: factories.City, frozen: Any
) -> None:
    booked = factories.book_card_pickup(city)
    at_counter(city, booked, frozen)
    mark = last_event()

    for finish in (
        lambda: visits.serve_visit(code=booked.code, actor=CLERK),
        lambda: finish_ticket(ticket=QueueTicket.objects.get(reservation=booked), actor=CLERK),
    ):
        with pytest.raises(DomainError) as refused:
            finish()
        assert refused.value.code == "card_not_handed_over"

    assert states(booked) == (
        ReservationStatus.CHECKED_IN,
        TicketStatus.CALLED,
        CardStatus.BOOKED,
    )
    assert last_event() == mark


def test_a_visitor_not_yet_called_cannot_be_closed_at_the_counter(
    city: factories.City, frozen: Any, official: StaffUser
) -> None:
    booked = factories.book_card_pickup(city)
    frozen.move_to(ON_THE_DAY)
    check_in_booked_visitor(code=booked.code, actor=CLERK)
    mark = last_event()

    closes: tuple[Callable[[], object], ...] = (
        lambda: visits.hand_over_card_at_visit(
            code=booked.code, actor=CLERK, staff_user=official, checks=HOLDER_CHECKS
        ),
        lambda: visits.no_show_visit(code=booked.code, actor=CLERK),
    )
    for close in closes:
        with pytest.raises(DomainError) as refused:
            close()
        assert refused.value.code == "not_called"
        assert "まだお呼びしていません" in refused.value.message

    assert states(booked) == (
        ReservationStatus.CHECKED_IN,
        TicketStatus.WAITING,
        CardStatus.BOOKED,
    )
    assert last_event() == mark


def _modules_naming(names: set[str]) -> set[str]:
    """The modules under src/madoguchi that import or call any of `names`."""
    return {module for module, named in _names_by_module().items() if named & names}


@functools.cache
def _names_by_module() -> dict[str, frozenset[str]]:
    """Every name each module under src/madoguchi imports from a module or reads (a name or an
    attribute) — each module parsed once per process for every set of names asked about."""
    package = Path(madoguchi.__file__).parent
    found = {}
    for path in package.rglob("*.py"):
        named: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                named.update(alias.name for alias in node.names)
            elif isinstance(node, ast.Attribute):
                named.add(node.attr)
            elif isinstance(node, ast.Name):
                named.add(node.id)
        found[path.relative_to(package).as_posix()] = frozenset(named)
    return found


def test_only_the_visit_ends_a_booking_alone() -> None:
    """`reservations.services.mark_served` / `mark_no_show` end a booking without its ticket:
    only `walkins.visits`, which first finds the visitor's ticket (and ends the visit with it
    when there is one), may call them — no screen, API or job ends the booking alone."""
    callers = _modules_naming({"mark_served", "mark_no_show"})
    assert callers == {"walkins/visits.py"}
    # the scan's control: it finds the visit's own entry points where they are used
    assert "staff_console/counter/views.py" in _modules_naming({"serve_visit", "no_show_visit"})


def test_a_contractor_cannot_hand_over_where_officials_decide_and_nothing_changes(
    city: factories.City, frozen: Any
) -> None:
    contractor = StaffUser.objects.create_user(
        "firm", password="x", role=Role.CONTRACTOR, municipality=city.municipality
    )
    booked = factories.book_card_pickup(city)
    at_counter(city, booked, frozen)
    mark = last_event()
    with pytest.raises(DomainError) as refused:
        visits.hand_over_card_at_visit(
            code=booked.code, actor=CLERK, staff_user=contractor, checks=HOLDER_CHECKS
        )
    assert refused.value.code == "official_required"
    assert states(booked) == (
        ReservationStatus.CHECKED_IN,
        TicketStatus.CALLED,
        CardStatus.BOOKED,
    )
    assert not CardHandOver.objects.exists()
    assert last_event() == mark


# --- the hand-over checks: every combination ---------------------------------------------------

PHOTO = sorted(PHOTO_ID_DOCUMENTS)
OTHER = sorted(set(IdDocument.values) - PHOTO_ID_DOCUMENTS)
DOCUMENT_SETS = [
    combo for size in (0, 1, 2) for combo in itertools.combinations(sorted(IdDocument.values), size)
]


@pytest.mark.parametrize("documents", DOCUMENT_SETS, ids=lambda d: "+".join(d) or "none")
def test_identity_needs_one_photo_id_or_two_documents(documents: tuple[str, ...]) -> None:
    card = CardRecord(application_kind="renewal")
    checks = HandOverChecks(
        is_proxy=False,
        id_documents=documents,
        old_card=OldCard.COLLECTED_AND_PUNCHED,
        pin_setting=PinSetting.SET_BY_HOLDER,
        e_certificates=ECertificates.BOTH,
    )
    enough = bool(set(documents) & PHOTO_ID_DOCUMENTS) or len(documents) >= 2
    assert (checks.problems(card) == []) is enough
    if enough:
        expected = "one_photo" if set(documents) & PHOTO_ID_DOCUMENTS else "two_other"
        assert checks.id_document_class == expected


PROXY_DOCUMENT_SETS = [
    combo
    for size in range(len(ProxyDocument.values) + 1)
    for combo in itertools.combinations(ProxyDocument.values, size)
]


@pytest.mark.parametrize(
    ("is_proxy", "pins", "proxy_documents"),
    [
        (is_proxy, pins, docs)
        for is_proxy in (False, True)
        for pins in PinSetting.values
        for docs in PROXY_DOCUMENT_SETS
    ],
)
def test_proxy_documents_and_pins_follow_who_receives_the_card(
    is_proxy: bool, pins: str, proxy_documents: tuple[str, ...]
) -> None:
    card = CardRecord(application_kind="new")
    checks = HandOverChecks(
        is_proxy=is_proxy,
        id_documents=(IdDocument.PASSPORT,),
        old_card=OldCard.NONE,
        pin_setting=pins,
        e_certificates=ECertificates.NONE,
        proxy_reason="aged_75" if is_proxy else "",
        proxy_documents=proxy_documents,
    )
    if is_proxy:
        allowed = pins != PinSetting.SET_BY_HOLDER and set(proxy_documents) == set(
            ProxyDocument.values
        )
    else:
        allowed = pins != PinSetting.FROM_INQUIRY_FORM and not proxy_documents
    assert (checks.problems(card) == []) is allowed


@pytest.mark.parametrize(
    ("kind", "old_card", "allowed"),
    [
        (kind, old, not (kind == "renewal" and old != OldCard.COLLECTED_AND_PUNCHED))
        for kind in ("new", "renewal", "reissue")
        for old in OldCard.values
    ],
)
def test_a_renewed_card_is_handed_over_only_against_the_punched_old_card(
    kind: str, old_card: str, allowed: bool
) -> None:
    checks = HandOverChecks(
        is_proxy=False,
        id_documents=(IdDocument.PASSPORT,),
        old_card=old_card,
        pin_setting=PinSetting.NONE_FACE_AUTH,
        e_certificates=ECertificates.USER_AUTH_ONLY,
    )
    assert (checks.problems(CardRecord(application_kind=kind)) == []) is allowed
