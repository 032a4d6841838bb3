"""The generated access matrix: every persona × every staff URL and action × site A (the home
official's and contractor's own site) / site B (another site of the same municipality) / site C
(the second municipality's) / site D (the third's). Each of the three municipalities has staff
in every role, so every role of each acts on the others' objects and must be refused.

The expected answer is read from the table in docs/access.md — not from the code — and the
code's table must say the same. Every staff URL of the URLconf must have an entry here (a new
staff URL without one fails `test_every_staff_url_is_in_the_matrix`), and every staff view must
go through `access.staff_view`.

Allowed: 2xx/3xx and the effect happened. Refused: 403 with the explanation page, nothing
changed (the effect did not happen, no audit event written). Every answer: no-store.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.issuance.models import (
    ApplicationCount,
    CardRecord,
    CardStatus,
    DeliveryImport,
    NoticeBatch,
)
from madoguchi.offices.models import Counter, Municipality, SpecialOpening
from madoguchi.reservations import services as reservations
from madoguchi.reservations.models import Channel, Reservation, ReservationStatus
from madoguchi.staff import access
from madoguchi.staff.models import Role
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.services import (
    call_next_ticket,
    check_in_booked_visitor,
    finish_ticket,
    issue_ticket,
    start_serving,
)
from tests import personas as p
from tests.issuance import factories as cards
from tests.reservations import factories as slots
from tests.resident_site.factories import VISIT_DAY, birth_fields
from tests.walkins.factories import call_to_a_counter

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "access.md"
ON_THE_DAY = p.on_the_day(VISIT_DAY)
SIGNED_IN_AT = ON_THE_DAY
"""Every persona is signed in once, at the moment every request of the matrix is made
(fixture `signed_in_personas`); each case's requests and effects are rolled back."""

KEPT_BY_THE_PAGES = {
    "manager": ("/staff/planning/", "/staff/planning/report/"),
    "foreign_manager": ("/staff/planning/", "/staff/planning/report/"),
    "third_manager": ("/staff/planning/", "/staff/planning/report/"),
    "rollup": ("/staff/planning/rollup/",),
}
"""The pages whose results the planning pages keep (`forecasts.kept`: the dashboard's figures,
each municipality's report, the roll-up), viewed once in the kept world by whom may see them."""


def keep_what_the_planning_pages_keep(signed_in: p.SignedIn) -> None:
    """Each municipality's planning results kept, as a first view of its pages keeps them, at
    the moment of the matrix's requests (`AFTER_SIGN_IN`: once per worker, kept with the world).
    Every later request still goes through the middleware, the access decorator and the whole
    view — which finds the result its municipality's inputs digest to instead of building the
    forecast again for each persona of each case (a case that changes those inputs builds it
    again). The access rule is decided before the view body, so what is proved is unchanged; a
    view serving the wrong municipality's kept result still shows the wrong name."""
    for name, paths in KEPT_BY_THE_PAGES.items():
        client = signed_in.client(name)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (name, path, response.status_code)


AFTER_SIGN_IN = keep_what_the_planning_pages_keep
SYSTEM = Actor.system("matrix")
RESIDENT = Actor.resident()

SIGN_IN_FLOW = frozenset(
    {"staff:login", "staff:logout", "staff:otp", "staff:otp_enrol", "staff:backup_codes"}
)
"""Staff URLs outside the matrix: the sign-in flow itself (reachable without a standing; the
backup codes page is the member's own second factor) — docs/staff-login.md."""


# --- the documented table ---------------------------------------------------------------------


def documented_table() -> dict[str, tuple[str, frozenset[str]]]:
    """docs/access.md's role × action table: action → (scope, roles allowed)."""
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| action | scope |"))
    roles = [cell.strip() for cell in lines[header].strip("|").split("|")][2:]
    table: dict[str, tuple[str, frozenset[str]]] = {}
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        action, scope, answers = cells[0], cells[1], cells[2:]
        assert set(answers) <= {"yes", "-"}, line
        table[action] = (
            scope,
            frozenset(r for r, a in zip(roles, answers, strict=True) if a == "yes"),
        )
    return table


DOC_TABLE = documented_table()


def test_the_documented_table_is_the_code_table() -> None:
    assert set(DOC_TABLE) == {a.value for a in access.Action}
    for action, (scope, roles) in access.TABLE.items():
        assert DOC_TABLE[action.value] == (scope.value, roles), action
    assert set().union(*(roles for _, roles in DOC_TABLE.values())) <= set(Role.values)


def expected(persona: p.Persona, action: str, target: str | None) -> bool:
    """The rule as docs/access.md states it (written out here, independent of the code)."""
    if persona.municipality is None:
        return False
    role = Role.ADMINISTRATOR if persona.superuser else persona.role
    scope, roles = DOC_TABLE[action]
    if role not in roles:
        return False
    if target is None:
        return True
    target_municipality = p.OWNER_OF_TARGET[target]
    if target_municipality != persona.municipality:
        return False
    if scope == "site" and role in (Role.OFFICIAL, Role.CONTRACTOR):
        return target in persona.sites
    return True


def kept_for_officials(persona: p.Persona) -> bool:
    """The demo municipalities keep every hand-over judgement for officials."""
    return persona.role == Role.CONTRACTOR and not persona.superuser


# --- cases ------------------------------------------------------------------------------------


class PersonaNeeded(Exception):
    """A case's set-up read who acts (`Ctx.persona`, `Ctx.mine`): it is built for each persona."""


@dataclass
class Ctx:
    world: p.World
    target: str
    acting: p.Persona | None
    traveller: Any

    @property
    def persona(self) -> p.Persona:
        if self.acting is None:
            raise PersonaNeeded
        return self.acting

    @property
    def site(self) -> Any:
        return self.world.site(self.target)

    @property
    def owner(self) -> Municipality:
        return self.world.municipality_of(self.target)

    @property
    def mine(self) -> Municipality | None:
        return self.world.persona_municipality(self.persona)

    def the_day(self) -> None:
        self.traveller.move_to(ON_THE_DAY)


@dataclass
class Case:
    path: str
    happened: Callable[[HttpResponse], bool]
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Entry:
    url_name: str
    variant: str
    action: str
    kind: str  # "object": at a target; "list": a page listing what is in scope; "own": own data
    method: str
    build: Callable[[Ctx], Case]
    kept_for_officials: bool = False
    one_page: bool = False
    """A list page whose address and data are the same whatever the target (only what is
    looked for on it differs): every target's set-up written in one world, the page asked once
    per persona and checked for each target. A set-up that writes the target's own row (a
    ticket at its site, a card of its municipality) marks it as that target's alone (its site's
    name, a holder's name of its own), so finding one target's mark never stands for another's."""

    @property
    def id(self) -> str:
        return f"{self.url_name}{'+' + self.variant if self.variant else ''}"


def _status(ticket: QueueTicket) -> str:
    """The ticket's status as the database holds it now (only that column read)."""
    return QueueTicket.objects.filter(pk=ticket.pk).values_list("status", flat=True).get()


def _card_status(card: CardRecord) -> str:
    """The card's status as the database holds it now (only that column read, not the whole
    record refreshed)."""
    return CardRecord.objects.filter(pk=card.pk).values_list("status", flat=True).get()


def _reservation_status(code: str) -> str:
    return Reservation.objects.get(code=code).status


def booked_pickup(ctx: Ctx, time: str = "10:00") -> tuple[Reservation, CardRecord]:
    card = cards.card(ctx.owner, status=CardStatus.NOTICE_ISSUED)
    slot = slots.slot(ctx.site, ctx.world.pickup, day=VISIT_DAY, time=time, capacity=3)
    booked = reservations.book_reservation(
        slot_id=slot.pk,
        procedure_code="card_pickup",
        applicant=slots.pickup(notice=card.notice_number or "", birth=card.birth_date),
        actor=RESIDENT,
    )
    return booked, card


def booked_renewal(ctx: Ctx) -> Reservation:
    slot = slots.slot(ctx.site, ctx.world.renewal, day=VISIT_DAY, time="10:00", capacity=3)
    return reservations.book_reservation(
        slot_id=slot.pk,
        procedure_code="cert_renewal",
        applicant=slots.renewal(),
        actor=RESIDENT,
    )


def read_recorded(subject: Any, what: str) -> Callable[[HttpResponse], bool]:
    def happened(response: HttpResponse) -> bool:
        return (
            response.status_code == 200
            and AuditEvent.objects.filter(
                action="access.read",
                subject_type=subject._meta.label,
                subject_id=str(subject.pk),
                after__what=what,
            ).exists()
        )

    return happened


def answered(response: HttpResponse) -> bool:
    return response.status_code == 200


# object cases (one target) ---------------------------------------------------------------------


def site_day(ctx: Ctx) -> Case:
    booked_pickup(ctx)
    return Case(f"/staff/sites/{ctx.site.pk}/?day={VISIT_DAY}", read_recorded(ctx.site, "day_view"))


def phone_form(ctx: Ctx) -> Case:
    return Case(f"/staff/sites/{ctx.site.pk}/phone-booking/", answered)


def phone_book(ctx: Ctx) -> Case:
    card = cards.card(ctx.owner, status=CardStatus.NOTICE_ISSUED)
    day = VISIT_DAY + dt.timedelta(days=1)
    slot = slots.slot(ctx.site, ctx.world.pickup, day=day, time="14:00", capacity=3)
    site = ctx.site
    return Case(
        f"/staff/sites/{site.pk}/phone-booking/",
        lambda r: Reservation.objects.filter(channel=Channel.PHONE, slot__site=site).exists(),
        {
            "procedure": "card_pickup",
            "day": day.isoformat(),
            "slot": str(slot.pk),
            "notice_number": card.notice_number,
            **birth_fields(card.birth_date),
        },
    )


def check_in(ctx: Ctx) -> Case:
    booked = booked_renewal(ctx)
    return Case(
        f"/staff/reservations/{booked.code}/check-in/",
        lambda r: _reservation_status(booked.code) == ReservationStatus.CHECKED_IN,
        {},
    )


def served(ctx: Ctx) -> Case:
    booked = booked_renewal(ctx)
    ctx.the_day()
    check_in_booked_visitor(code=booked.code, actor=SYSTEM)
    call_to_a_counter(ctx.site)  # a visit ends at a counter (one visit)
    return Case(
        f"/staff/reservations/{booked.code}/served/",
        lambda r: _reservation_status(booked.code) == ReservationStatus.SERVED,
        {},
    )


def no_show(ctx: Ctx) -> Case:
    booked = booked_renewal(ctx)
    return Case(
        f"/staff/reservations/{booked.code}/no-show/",
        lambda r: _reservation_status(booked.code) == ReservationStatus.NO_SHOW,
        {},
    )


def hand_over(ctx: Ctx) -> Case:
    booked, card = booked_pickup(ctx)
    ctx.the_day()
    check_in_booked_visitor(code=booked.code, actor=SYSTEM)
    call_to_a_counter(ctx.site)  # the hand-over happens at a counter (one visit)

    def happened(response: HttpResponse) -> bool:
        return _card_status(card) == CardStatus.HANDED_OVER and (
            _reservation_status(booked.code) == ReservationStatus.SERVED
        )

    return Case(
        f"/staff/reservations/{booked.code}/hand-over/",
        happened,
        {
            "is_proxy": "0",
            "id_documents": ["passport"],
            "old_card": "punched",
            "pin_setting": "holder",
            "e_certificates": "both",
            "identity_checked": "on",
        },
    )


def waiting_ticket(ctx: Ctx) -> QueueTicket:
    ctx.the_day()
    return issue_ticket(site=ctx.site, procedure=ctx.world.renewal, actor=RESIDENT)


def first_counter(ctx: Ctx) -> Counter:
    return Counter.objects.filter(site=ctx.site).order_by("name")[0]


def calling(ctx: Ctx) -> Case:
    waiting_ticket(ctx)
    return Case(f"/staff/queue/sites/{ctx.site.pk}/", answered)


def call(ctx: Ctx) -> Case:
    ticket = waiting_ticket(ctx)
    return Case(
        f"/staff/queue/sites/{ctx.site.pk}/counters/{first_counter(ctx).pk}/call/",
        lambda r: _status(ticket) == TicketStatus.CALLED,
        {},
    )


def slip(ctx: Ctx) -> Case:
    ticket = waiting_ticket(ctx)
    return Case(f"/staff/queue/tickets/{ticket.pk}/slip/", answered)


def staff_issue(ctx: Ctx) -> Case:
    ctx.the_day()
    return Case(
        f"/staff/queue/sites/{ctx.site.pk}/issue/",
        lambda r: QueueTicket.objects.filter(site=ctx.site, channel="staff").exists(),
        {"procedure": ctx.world.renewal.pk},
    )


def recall(ctx: Ctx) -> Case:
    ticket = waiting_ticket(ctx)
    call_next_ticket(site=ctx.site, counter=first_counter(ctx), actor=SYSTEM)
    return Case(
        f"/staff/queue/tickets/{ticket.pk}/recall/",
        lambda r: QueueTicket.objects.get(pk=ticket.pk).recall_count == 1,
        {},
    )


def transfer(ctx: Ctx) -> Case:
    ticket = waiting_ticket(ctx)
    counter = first_counter(ctx)
    return Case(
        f"/staff/queue/tickets/{ticket.pk}/transfer/",
        lambda r: QueueTicket.objects.get(pk=ticket.pk).transfer_counter_id == counter.pk,
        {"counter": counter.pk},
    )


CLAIM_CHOICES = {
    "weeks": "4",
    "take_up": "90",
    "lead_time_weeks": "2",
    "weekday_cost": "1",
    "evening_cost": "1.25",
    "weekend_cost": "1.5",
}


def _keep_plan(ctx: Ctx) -> None:
    """The claim reads the kept plan: solve every municipality's first (as `madoguchi
    solve_staffing` would) — once for all personas, and a claim that read another
    municipality's kept plan would show that municipality's name. A plan already kept in this
    world for these choices (another target's set-up of a one-page list) is not solved again:
    solving it again at the same moment keeps the same plan."""
    from madoguchi.forecasts.models import SolvedStaffingPlan
    from madoguchi.forecasts.staffing_cache import choices_key, solve_and_keep

    for municipality in ctx.world.municipalities:
        kept = SolvedStaffingPlan.objects.filter(
            municipality=municipality, choices_key=choices_key(CLAIM_CHOICES)
        )
        if not kept.exists():
            solve_and_keep(municipality, CLAIM_CHOICES, today=VISIT_DAY)  # the request's day


def staffing_solve(ctx: Ctx) -> Case:
    """再計算 keeps a plan for the person's own municipality, never another's."""
    from madoguchi.forecasts.models import SolvedStaffingPlan

    mine = ctx.mine

    def happened(response: HttpResponse) -> bool:
        elsewhere = SolvedStaffingPlan.objects.exclude(municipality=mine).exists()
        own = SolvedStaffingPlan.objects.filter(municipality=mine).exists()
        return response.status_code == 302 and own and not elsewhere

    return Case("/staff/planning/staffing/solve/", happened, dict(CLAIM_CHOICES))


def staffing_claim_csv(ctx: Ctx) -> Case:
    name = ctx.owner.name
    _keep_plan(ctx)
    return Case(
        "/staff/planning/staffing/claim.csv?weeks=4&take_up=90&lead_time_weeks=2"
        "&weekday_cost=1&evening_cost=1.25&weekend_cost=1.5",
        lambda r: (
            r.status_code == 200
            and r.content.decode("utf-8-sig").startswith("自治体,区分,")
            and name in r.content.decode("utf-8-sig")
        ),
    )


def staffing_claim_xlsx(ctx: Ctx) -> Case:
    name = ctx.owner.name
    _keep_plan(ctx)

    def shown(r: HttpResponse) -> bool:
        if r.status_code != 200:
            return False
        sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
        return sheet is not None and sheet.cell(row=2, column=1).value == name

    return Case(
        "/staff/planning/staffing/claim.xlsx?weeks=4&take_up=90&lead_time_weeks=2"
        "&weekday_cost=1&evening_cost=1.25&weekend_cost=1.5",
        shown,
    )


def stats_csv(ctx: Ctx) -> Case:
    """The target's site has a ticket today; the export shows its site's name (each target's
    site name its own: a one-page list)."""
    waiting_ticket(ctx)
    day = ON_THE_DAY.date().isoformat()
    name = ctx.site.name
    return Case(
        f"/staff/queue/stats.csv?first={day}&last={day}",
        lambda r: r.status_code == 200 and name in r.content.decode(),
    )


def adopt(ctx: Ctx) -> Case:
    """The site's day has `MIN_SAMPLES_TO_ADOPT` finished services of 37 minutes: one visit
    through the queue's services (issued, called, served, finished 37 minutes later) and its
    finished row copied for the others (the statistics read each finished ticket's row:
    `served_at` → `finished_at`) — the same rows the services would leave, but for the numbers,
    tokens and clock times, at one visit's cost instead of ten."""
    from madoguchi.walkins.models import new_ticket_token
    from madoguchi.walkins.statistics import MIN_SAMPLES_TO_ADOPT

    ctx.the_day()
    counter = first_counter(ctx)
    ticket = issue_ticket(site=ctx.site, procedure=ctx.world.renewal, actor=RESIDENT)
    call_next_ticket(site=ctx.site, counter=counter, actor=SYSTEM)
    start_serving(ticket=ticket, actor=SYSTEM)
    ctx.traveller.shift(dt.timedelta(minutes=37))
    finish_ticket(ticket=ticket, actor=SYSTEM)
    done = QueueTicket.objects.get(pk=ticket.pk)
    assert done.status == TicketStatus.DONE
    row = {f.attname: getattr(done, f.attname) for f in QueueTicket._meta.concrete_fields}
    del row[QueueTicket._meta.pk.attname]
    QueueTicket.objects.bulk_create(
        QueueTicket(**{**row, "number": number, "token": new_ticket_token()})
        for number in range(done.number + 1, done.number + MIN_SAMPLES_TO_ADOPT)
    )
    day = ON_THE_DAY.date().isoformat()
    renewal = ctx.world.renewal
    return Case(
        f"/staff/queue/stats/sites/{ctx.site.pk}/adopt/?first={day}&last={day}",
        lambda r: type(renewal).objects.get(pk=renewal.pk).duration_minutes == 37,
        {},
    )


def kiosks_page(ctx: Ctx) -> Case:
    return Case(f"/staff/queue/sites/{ctx.site.pk}/kiosks/", answered)


def register_kiosk(ctx: Ctx) -> Case:
    from madoguchi.walkins.models import KioskDevice

    site = ctx.site
    return Case(
        f"/staff/queue/sites/{site.pk}/kiosks/",
        lambda r: KioskDevice.objects.filter(site=site, name="正面入口").exists(),
        {"name": "正面入口"},
    )


def revoke_kiosk(ctx: Ctx) -> Case:
    from madoguchi.walkins.kiosks import register_kiosk as register
    from madoguchi.walkins.models import KioskDevice

    device, _token = register(site=ctx.site, name="正面入口", actor=SYSTEM)
    return Case(
        f"/staff/queue/kiosks/{device.pk}/revoke/",
        lambda r: KioskDevice.objects.get(pk=device.pk).revoked_at is not None,
        {},
    )


def ticket_move(move: str, before: str, after: str) -> Callable[[Ctx], Case]:
    def build(ctx: Ctx) -> Case:
        ticket = waiting_ticket(ctx)
        if before in (TicketStatus.CALLED, TicketStatus.SERVING):
            call_next_ticket(site=ctx.site, counter=first_counter(ctx), actor=SYSTEM)
            ticket.refresh_from_db()
        if before == TicketStatus.SERVING:
            start_serving(ticket=ticket, actor=SYSTEM)
        assert _status(ticket) == before
        return Case(
            f"/staff/queue/tickets/{ticket.pk}/{move}/",
            lambda r: _status(ticket) == after,
            {},
        )

    return build


def card_page(ctx: Ctx) -> Case:
    card = cards.card(ctx.owner)
    return Case(f"/staff/issuance/cards/{card.pk}/", read_recorded(card, "card_page"))


def card_move(name: str, before: str, after: str, **extra: str) -> Callable[[Ctx], Case]:
    def build(ctx: Ctx) -> Case:
        stamps: dict[str, Any] = {}
        if before in (CardStatus.REMINDED, CardStatus.NOTICE_ISSUED):
            # noticed and reminded long ago: the reminder is due, the destroy period has passed
            from madoguchi.core import clock

            long_ago = clock.now() - dt.timedelta(days=3 * 366)
            stamps = {
                "reminded_at": long_ago,
                "notice_issued_at": long_ago,
                "first_notice_issued_at": long_ago,
            }
        card = cards.card(ctx.owner, status=before, **stamps)

        def happened(response: HttpResponse) -> bool:
            return _card_status(card) == after

        return Case(f"/staff/issuance/cards/{card.pk}/act/", happened, {"action": name, **extra})

    return build


def notice_batch(ctx: Ctx) -> NoticeBatch:
    from madoguchi.core import clock

    batch = NoticeBatch.objects.create(
        municipality=ctx.owner, created_at=clock.now(), created_by="matrix", cards=1
    )
    cards.card(ctx.owner, status=CardStatus.NOTICE_ISSUED, notice_batch=batch)
    return batch


def batch_pdf(ctx: Ctx) -> Case:
    batch = notice_batch(ctx)
    return Case(
        f"/staff/issuance/notices/{batch.pk}/notices.pdf", read_recorded(batch, "notices_pdf")
    )


def batch_csv(ctx: Ctx) -> Case:
    batch = notice_batch(ctx)
    return Case(
        f"/staff/issuance/notices/{batch.pk}/mailing.csv", read_recorded(batch, "mailing_csv")
    )


# list cases: `happened` = the target's data is shown ----------------------------------------


def shows(marker: Callable[[Ctx], str]) -> Callable[[Ctx, str], Case]:
    def build(ctx: Ctx, path: str) -> Case:
        text = marker(ctx)
        return Case(path, lambda r: r.status_code == 200 and text in r.content.decode())

    return build


def site_list(path: str) -> Callable[[Ctx], Case]:
    return lambda ctx: shows(lambda c: c.site.name)(ctx, path)


def municipality_page(path: str) -> Callable[[Ctx], Case]:
    return lambda ctx: shows(lambda c: c.owner.name)(ctx, path)


def card_search(ctx: Ctx) -> Case:
    card = cards.card(ctx.owner)
    return Case(
        f"/staff/issuance/cards/?q={card.application_id}",
        lambda r: r.status_code == 302 and r["Location"] == f"/staff/issuance/cards/{card.pk}/",
    )


def upload_form(ctx: Ctx) -> Case:
    return Case("/staff/issuance/import/", answered)


# own-municipality cases: `happened` = own data changed, the other municipality's did not ------


def _own_only(ctx: Ctx, changed: Callable[[Municipality], bool]) -> Callable[[HttpResponse], bool]:
    mine = ctx.mine
    others = [m for m in ctx.world.municipalities if m != mine]

    def happened(response: HttpResponse) -> bool:
        if any(changed(other) for other in others):
            return False  # never: flagged as "changed" for refused and allowed alike
        return mine is not None and changed(mine)

    return happened


DELIVERY = (
    "application_id,delivered_on,family_name,given_name,family_name_kana,given_name_kana,"
    "birth_date,postal_code,address,application_kind\n"
    "90210358112040000009901,2026-05-29,山田,花子,ヤマダ,ハナコ,1986-04-12,123-4567,"
    "みどり市中央一丁目2番3号,renewal\n"
)


def upload(ctx: Ctx) -> Case:
    return Case(
        "/staff/issuance/import/",
        _own_only(ctx, lambda m: DeliveryImport.objects.filter(municipality=m).exists()),
        {"file": SimpleUploadedFile("d.csv", DELIVERY.encode(), content_type="text/csv")},
    )


def upload_applications(ctx: Ctx) -> Case:
    return Case(
        "/staff/issuance/applications/",
        _own_only(ctx, lambda m: ApplicationCount.objects.filter(municipality=m).exists()),
        {
            "file": SimpleUploadedFile(
                "a.csv", b"week,applications\n2026-05-25,100\n", content_type="text/csv"
            )
        },
    )


def advance(step: str, before: str, after: str) -> Callable[[Ctx], Case]:
    def build(ctx: Ctx) -> Case:
        for owner in ctx.world.municipalities:
            cards.card(owner, status=before)
        return Case(
            "/staff/issuance/advance/",
            _own_only(ctx, lambda m: m.cards.filter(status=after).exists()),
            {"step": step},
        )

    return build


def issue(ctx: Ctx) -> Case:
    for key in ("a", "c", "d"):
        owner = ctx.world.municipality_of(key)
        cards.card(owner, status=CardStatus.SETUP_DONE)
        later = VISIT_DAY + dt.timedelta(days=2)  # seats after "now" on the day
        slots.slot(ctx.world.site(key), ctx.world.pickup, day=later, capacity=10)
    return Case(
        "/staff/issuance/notices/",
        _own_only(ctx, lambda m: NoticeBatch.objects.filter(municipality=m).exists()),
        {},
    )


def remind(ctx: Ctx) -> Case:
    from madoguchi.core import clock

    long_ago = clock.now() - dt.timedelta(days=400)
    for key in ("a", "c", "d"):
        owner = ctx.world.municipality_of(key)
        cards.card(owner, status=CardStatus.NOTICE_ISSUED, notice_issued_at=long_ago)
        later = VISIT_DAY + dt.timedelta(days=2)
        slots.slot(ctx.world.site(key), ctx.world.pickup, day=later, capacity=10)
    return Case(
        "/staff/issuance/reminders/",
        _own_only(ctx, lambda m: m.cards.filter(status=CardStatus.REMINDED).exists()),
        {},
    )


HOLDER_OF_TARGET = {"a": "花子", "b": "明美", "c": "直子", "d": "陽子"}
"""The given name of the card a target's set-up makes for a list page (each target's own: the
targets' cards are made in one world and each is looked for by its holder's name)."""


def destruction_list(ctx: Ctx) -> Case:
    from madoguchi.core import clock

    long_ago = clock.now() - dt.timedelta(days=400)
    card = cards.card(
        ctx.owner,
        status=CardStatus.REMINDED,
        reminded_at=long_ago,
        given_name=HOLDER_OF_TARGET[ctx.target],
    )
    return Case(
        "/staff/issuance/destruction/",
        lambda r: r.status_code == 200 and card.full_name in r.content.decode(),
    )


def apply_openings(ctx: Ctx) -> Case:
    """The proposals depend on the backlog: allowed is a redirect back to the page with the
    outcome, and no extra opening appears at another municipality's site."""
    mine = ctx.mine

    def happened(response: HttpResponse) -> bool:
        elsewhere = SpecialOpening.objects.exclude(site__municipality=mine).exists()
        return response.status_code == 302 and not elsewhere and mine is not None

    return Case("/staff/planning/apply/", happened, {})


def upload_register(ctx: Ctx) -> Case:
    """A small register replaces the person's own municipality's, never another's."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from madoguchi.forecasts.models import RegisterSnapshot

    mine = ctx.mine
    register = SimpleUploadedFile(
        "register.csv",
        b"person_id,birth_date,card_issued_on,cert_issued_on\nM-1,1980-05-05,2020-01-10,\n",
        content_type="text/csv",
    )

    def happened(response: HttpResponse) -> bool:
        elsewhere = RegisterSnapshot.objects.exclude(municipality=mine).exists()
        own = RegisterSnapshot.objects.filter(municipality=mine, rows=1).exists()
        return response.status_code == 200 and own and not elsewhere

    return Case("/staff/planning/register/", happened, {"file": register})


def rollup_page(ctx: Ctx) -> Case:
    """The roll-up shows every municipality of the deployment (aggregates only)."""
    names = tuple(m.name for m in ctx.world.municipalities)
    return Case(
        "/staff/planning/rollup/",
        lambda r: r.status_code == 200 and all(n in r.content.decode() for n in names),
    )


def rollup_csv(ctx: Ctx) -> Case:
    names = tuple(m.name for m in ctx.world.municipalities)

    def shown(r: HttpResponse) -> bool:
        text = r.content.decode("utf-8-sig") if r.status_code == 200 else ""
        return text.startswith("地方公共団体コード") and all(n in text for n in names)

    return Case("/staff/planning/rollup/rollup.csv", shown)


ROLLUP_CODE = "011002"


def rollup_import(ctx: Ctx) -> Case:
    """A signed report of a municipality run elsewhere is imported (its key registered)."""
    from madoguchi.forecasts import report_signing
    from madoguchi.forecasts.models import ImportedReport
    from madoguchi.forecasts.report import build_report, canonical_bytes, to_json

    data = build_report(ctx.world.home).dump()
    data["municipality"] = {**data["municipality"], "code": ROLLUP_CODE, "name": "さっぽろ試験市"}
    public_key, value = report_signing.sign(ROLLUP_CODE, canonical_bytes(data))
    report_signing.register_public_key(ROLLUP_CODE, public_key)
    signature = {"algorithm": "Ed25519", "public_key": public_key, "value": value}
    upload = SimpleUploadedFile(
        "report.json", to_json({"report": data, "signature": signature}), "application/json"
    )
    return Case(
        "/staff/planning/rollup/import/",
        lambda r: ImportedReport.objects.filter(municipality_code=ROLLUP_CODE).exists(),
        {"file": upload},
    )


def rollup_keys_page(ctx: Ctx) -> Case:
    return Case(
        "/staff/planning/rollup/keys/",
        lambda r: r.status_code == 200 and "鍵を登録する" in r.content.decode(),
    )


def _a_public_key() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from madoguchi.forecasts import report_signing

    return report_signing.public_key_text(Ed25519PrivateKey.generate().public_key())


def rollup_key_add(ctx: Ctx) -> Case:
    from madoguchi.forecasts.models import TrustedReportKey

    key = _a_public_key()
    return Case(
        "/staff/planning/rollup/keys/",
        lambda r: TrustedReportKey.objects.filter(public_key=key).exists(),
        {"municipality_code": ROLLUP_CODE, "public_key": key, "note": ""},
    )


def rollup_key_revoke(ctx: Ctx) -> Case:
    from madoguchi.forecasts import report_keys
    from madoguchi.forecasts.models import TrustedReportKey

    key = report_keys.trust_key(ROLLUP_CODE, _a_public_key(), by=None, actor=SYSTEM)
    return Case(
        f"/staff/planning/rollup/keys/{key.pk}/revoke/",
        lambda r: TrustedReportKey.objects.filter(pk=key.pk, revoked_at__isnull=False).exists(),
        {},
    )


A = access.Action
OBJECT, LIST, OWN = "object", "list", "own"
MATRIX: tuple[Entry, ...] = (
    # counter console
    Entry("counter_console:home", "", A.SEE_SITE, LIST, "get", site_list("/staff/"), one_page=True),
    Entry("counter_console:site_day", "", A.SEE_SITE, OBJECT, "get", site_day),
    Entry("counter_console:phone_booking", "form", A.COUNTER, OBJECT, "get", phone_form),
    Entry("counter_console:phone_booking", "book", A.COUNTER, OBJECT, "post", phone_book),
    Entry("counter_console:check_in", "", A.COUNTER, OBJECT, "post", check_in),
    Entry("counter_console:served", "", A.COUNTER, OBJECT, "post", served),
    Entry("counter_console:no_show", "", A.COUNTER, OBJECT, "post", no_show),
    Entry("counter_console:hand_over", "", A.HAND_OVER, OBJECT, "post", hand_over, True),
    # walk-in queue
    Entry("walkins:sites", "", A.SEE_SITE, LIST, "get", site_list("/staff/queue/"), one_page=True),
    Entry("walkins:calling", "", A.SEE_SITE, OBJECT, "get", calling),
    Entry("walkins:call", "", A.COUNTER, OBJECT, "post", call),
    Entry("walkins:slip", "", A.SEE_SITE, OBJECT, "get", slip),
    Entry("walkins:issue", "", A.COUNTER, OBJECT, "post", staff_issue),
    Entry("walkins:recall", "", A.COUNTER, OBJECT, "post", recall),
    Entry("walkins:transfer", "", A.COUNTER, OBJECT, "post", transfer),
    Entry(
        "walkins:stats",
        "",
        A.SEE_SITE,
        LIST,
        "get",
        site_list("/staff/queue/stats/"),
        one_page=True,
    ),
    Entry("walkins:stats_csv", "", A.SEE_SITE, LIST, "get", stats_csv, one_page=True),
    Entry("walkins:adopt", "", A.CHANGE_PLANNING, OBJECT, "post", adopt),
    Entry("walkins:kiosks", "list", A.CHANGE_PLANNING, OBJECT, "get", kiosks_page),
    Entry("walkins:kiosks", "register", A.CHANGE_PLANNING, OBJECT, "post", register_kiosk),
    Entry("walkins:kiosk_revoke", "", A.CHANGE_PLANNING, OBJECT, "post", revoke_kiosk),
    Entry(
        "walkins:move",
        "serve",
        A.COUNTER,
        OBJECT,
        "post",
        ticket_move("serve", TicketStatus.CALLED, TicketStatus.SERVING),
    ),
    Entry(
        "walkins:move",
        "finish",
        A.COUNTER,
        OBJECT,
        "post",
        ticket_move("finish", TicketStatus.SERVING, TicketStatus.DONE),
    ),
    Entry(
        "walkins:move",
        "no-show",
        A.COUNTER,
        OBJECT,
        "post",
        ticket_move("no-show", TicketStatus.CALLED, TicketStatus.NO_SHOW),
    ),
    Entry(
        "walkins:move",
        "cancel",
        A.COUNTER,
        OBJECT,
        "post",
        ticket_move("cancel", TicketStatus.WAITING, TicketStatus.CANCELLED),
    ),
    # card pipeline
    Entry(
        "issuance:dashboard",
        "",
        A.SEE_CARDS,
        LIST,
        "get",
        municipality_page("/staff/issuance/"),
        one_page=True,
    ),
    Entry("issuance:upload", "form", A.CARD_OFFICIAL, OWN, "get", upload_form),
    Entry("issuance:upload", "file", A.CARD_OFFICIAL, OWN, "post", upload),
    Entry("issuance:upload_applications", "", A.CARD_OFFICIAL, OWN, "post", upload_applications),
    Entry("issuance:card_search", "", A.SEE_CARDS, LIST, "get", card_search),
    Entry("issuance:card", "", A.SEE_CARDS, OBJECT, "get", card_page),
    Entry(
        "issuance:card_act",
        "inspect",
        A.CARD_WORK,
        OBJECT,
        "post",
        card_move("inspect", CardStatus.DELIVERED, CardStatus.INSPECTED),
    ),
    Entry(
        "issuance:card_act",
        "setup",
        A.CARD_WORK,
        OBJECT,
        "post",
        card_move("setup", CardStatus.INSPECTED, CardStatus.SETUP_DONE),
    ),
    Entry(
        "issuance:card_act",
        "defective",
        A.CARD_WORK,
        OBJECT,
        "post",
        card_move("defective", CardStatus.DELIVERED, CardStatus.DEFECTIVE, reason="chip"),
    ),
    Entry(
        "issuance:card_act",
        "return",
        A.CARD_WORK,
        OBJECT,
        "post",
        card_move("return", CardStatus.DEFECTIVE, CardStatus.RETURNED_TO_JLIS),
    ),
    Entry(
        "issuance:card_act",
        "remind",
        A.CARD_OFFICIAL,
        OBJECT,
        "post",
        card_move("remind", CardStatus.NOTICE_ISSUED, CardStatus.REMINDED),
    ),
    Entry(
        "issuance:card_act",
        "destroy",
        A.CARD_OFFICIAL,
        OBJECT,
        "post",
        card_move("destroy", CardStatus.REMINDED, CardStatus.DESTROYED),
    ),
    Entry(
        "issuance:advance",
        "inspect",
        A.CARD_WORK,
        OWN,
        "post",
        advance("inspect", CardStatus.DELIVERED, CardStatus.INSPECTED),
    ),
    Entry(
        "issuance:advance",
        "setup",
        A.CARD_WORK,
        OWN,
        "post",
        advance("setup", CardStatus.INSPECTED, CardStatus.SETUP_DONE),
    ),
    Entry("issuance:remind", "", A.CARD_OFFICIAL, OWN, "post", remind),
    Entry("issuance:destruction", "", A.SEE_CARDS, LIST, "get", destruction_list, one_page=True),
    Entry("issuance:issue", "", A.CARD_WORK, OWN, "post", issue),
    Entry("issuance:batch_pdf", "", A.EXPORT_NOTICES, OBJECT, "get", batch_pdf),
    Entry("issuance:batch_csv", "", A.EXPORT_NOTICES, OBJECT, "get", batch_csv),
    # planning
    Entry(
        "forecasts:planning",
        "",
        A.SEE_PLANNING,
        LIST,
        "get",
        municipality_page("/staff/planning/"),
        one_page=True,
    ),
    Entry(
        "forecasts:staffing",
        "",
        A.SEE_PLANNING,
        LIST,
        "get",
        municipality_page("/staff/planning/staffing/"),
        one_page=True,
    ),
    Entry(
        "forecasts:staffing_claim",
        "",
        A.SEE_PLANNING,
        LIST,
        "get",
        staffing_claim_csv,
        one_page=True,
    ),
    Entry(
        "forecasts:staffing_claim_xlsx",
        "",
        A.SEE_PLANNING,
        LIST,
        "get",
        staffing_claim_xlsx,
        one_page=True,
    ),
    Entry("forecasts:staffing_solve", "", A.SEE_PLANNING, OWN, "post", staffing_solve),
    Entry("forecasts:apply", "", A.CHANGE_PLANNING, OWN, "post", apply_openings),
    Entry("forecasts:register", "", A.CHANGE_PLANNING, OWN, "post", upload_register),
    Entry(
        "forecasts:report",
        "",
        A.SEE_PLANNING,
        LIST,
        "get",
        municipality_page("/staff/planning/report/"),
        one_page=True,
    ),
    Entry(
        "forecasts:report",
        "download",
        A.SEE_PLANNING,
        LIST,
        "get",
        lambda ctx: shows(lambda c: f'"code": "{c.owner.code}"')(
            ctx, "/staff/planning/report/?format=json"
        ),
        one_page=True,
    ),
    # the roll-up (deployment scope: every municipality, aggregates only)
    Entry("forecasts:rollup", "", A.ROLLUP, OWN, "get", rollup_page),
    Entry("forecasts:rollup_csv", "", A.ROLLUP, OWN, "get", rollup_csv),
    Entry("forecasts:rollup_import", "", A.ROLLUP, OWN, "post", rollup_import),
    Entry("forecasts:rollup_keys", "list", A.ROLLUP, OWN, "get", rollup_keys_page),
    Entry("forecasts:rollup_keys", "add", A.ROLLUP, OWN, "post", rollup_key_add),
    Entry("forecasts:rollup_key_revoke", "", A.ROLLUP, OWN, "post", rollup_key_revoke),
)


# --- the URLconf ------------------------------------------------------------------------------


def staff_urls() -> dict[str, Any]:
    """Every named URL the staff zone serves (under /staff/), name → view."""
    found: dict[str, Any] = {}

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                space = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, route, space)
            elif isinstance(pattern, URLPattern) and route.startswith("staff/"):
                assert pattern.name, f"staff URL {route} has no name"
                found[namespace + pattern.name] = pattern.callback

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_staff_url_is_in_the_matrix() -> None:
    urls = staff_urls()
    listed = {entry.url_name for entry in MATRIX}
    missing = set(urls) - listed - SIGN_IN_FLOW
    assert not missing, (
        f"staff URLs without an entry in the access matrix: {sorted(missing)} — add each to "
        "MATRIX (tests/staff/test_access_matrix.py) with its action from docs/access.md, or to "
        "SIGN_IN_FLOW if it is part of signing in"
    )
    assert listed <= set(urls), sorted(listed - set(urls))


def test_every_staff_view_goes_through_the_access_rule() -> None:
    for name, view in staff_urls().items():
        if name in SIGN_IN_FLOW:
            continue
        declared = getattr(view, "access_action", None)
        assert declared is not None, f"{name} is not decorated with access.staff_view"
        entries = {e.action for e in MATRIX if e.url_name == name}
        assert declared in entries, (name, declared, entries)


# --- the matrix -------------------------------------------------------------------------------


def targets_of(entry: Entry) -> tuple[str, ...]:
    return p.TARGETS if entry.kind in (OBJECT, LIST) else ("own",)


@contextmanager
def rolled_back() -> Iterator[None]:
    """A savepoint rolled back at its end: what was done in it is gone for the next."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)

    def check(self, condition: bool, who: str, what: str) -> None:
        if not condition:
            self.failures.append(f"{who}: {what}")


@pytest.mark.parametrize("entry", MATRIX, ids=lambda entry: entry.id)
def test_access_matrix(signed_in_personas: p.SignedIn, frozen: Any, entry: Entry) -> None:
    """Every cell of one URL and action: each target (its case built in a savepoint rolled back
    after it, so every target meets the world as kept) × each persona (its request in a
    savepoint rolled back after it, so every persona meets the case as it was built). A case
    whose set-up does not depend on who acts is built once for all personas; one that reads the
    persona (`Ctx.persona`, `Ctx.mine`) is built for each. A list page asked in the same world at
    the same address whatever the target (`Entry.one_page`) is asked once per persona and its
    answer checked for every target. Every failing cell is reported: persona@target."""
    outcome = Outcome()
    with refusals_unlogged():
        if entry.one_page:
            with rolled_back():
                _one_page(signed_in_personas, frozen, entry, outcome)
        else:
            for target in targets_of(entry):
                with rolled_back():
                    _cells(signed_in_personas, frozen, entry, target, outcome)
    assert not outcome.failures, "\n".join(outcome.failures)


@contextmanager
def refusals_unlogged() -> Iterator[None]:
    """Django's request log keeps its errors (a 5xx is logged and shown with a failure) but not
    the warning it writes for each 403 — most of the matrix's cells are refusals, and each
    warning went through pytest's log capture (as tests/api/test_schemathesis.py's 4xx)."""
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        request_log.setLevel(level)


def _cells(
    signed_in: p.SignedIn, traveller: Any, entry: Entry, target: str, outcome: Outcome
) -> None:
    """One target's cells: every persona's request on the case built at the target."""
    shared = _build(signed_in, traveller, entry, target, None)
    events = _AuditCount(per_persona=shared is None)
    for persona in p.PERSONAS:
        with rolled_back():
            case = shared or _build(signed_in, traveller, entry, target, persona)
            assert case is not None
            _one(signed_in, traveller, entry, {target: case}, persona, events, outcome)


def _one_page(signed_in: p.SignedIn, traveller: Any, entry: Entry, outcome: Outcome) -> None:
    """A list page the same for every target: every target's case built in the one world (each
    target's rows marked as its own, `Entry.one_page`), then each persona asks once and the
    answer is checked for each target, as each target's own request would be."""
    built = {target: _build(signed_in, traveller, entry, target, None) for target in p.TARGETS}
    cases = {target: case for target, case in built.items() if case is not None}
    assert len(cases) == len(built), f"{entry.id}: a one-page list's set-up read who acts"
    first = cases[p.TARGETS[0]]
    for target, case in cases.items():
        assert (case.path, case.data) == (first.path, first.data), (
            f"{entry.id}@{target} asks {case.path} {case.data}, not {first.path} {first.data}: "
            "not one page for every target"
        )
    events = _AuditCount(per_persona=False)
    for persona in p.PERSONAS:
        with rolled_back():
            _one(signed_in, traveller, entry, cases, persona, events, outcome)


def audit_events() -> int:
    """How many audit events there are: one COUNT(*) sent as it is (the ORM's count built the
    query and its aggregation again for each of the matrix's ~3,000 counts)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(AUDIT_TABLE)}")
        (count,) = cursor.fetchone()
    return int(count)


AUDIT_TABLE = AuditEvent._meta.db_table


class _AuditCount:
    """The audit events written before a persona's request, counted where a refusal is expected
    (it must write none). A case built once for all personas is counted once: each persona's
    request is rolled back, so every persona meets the count of the case as built — and a
    request whose events stayed would show as a later refusal's "audited"."""

    def __init__(self, *, per_persona: bool) -> None:
        self.per_persona = per_persona
        self.counted: int | None = None

    def before(self) -> int:
        if self.per_persona or self.counted is None:
            self.counted = audit_events()
        return self.counted


def _build(
    signed_in: p.SignedIn, traveller: Any, entry: Entry, target: str, persona: p.Persona | None
) -> Case | None:
    """The case, set up at the residents' moment (None: without a persona, it needs one)."""
    from tests.resident_site.factories import NOW

    traveller.move_to(NOW)
    ctx = Ctx(signed_in.world, target if target != "own" else "a", persona, traveller)
    if persona is not None:
        return entry.build(ctx)
    try:
        with transaction.atomic():  # a set-up that stops half-way leaves nothing behind
            return entry.build(ctx)
    except PersonaNeeded:
        return None


def _one(
    signed_in: p.SignedIn,
    traveller: Any,
    entry: Entry,
    cases: dict[str, Case],
    persona: p.Persona,
    events: _AuditCount,
    outcome: Outcome,
) -> None:
    """One persona's request, checked for each target `cases` holds (each target's own case;
    one request stands for them all: the same address, the same data, the same world)."""
    traveller.move_to(ON_THE_DAY)
    client = signed_in.client(persona.name)
    case = next(iter(cases.values()))
    who = f"{persona.name}@{','.join(cases)}"
    for value in (case.data or {}).values():
        if hasattr(value, "seek"):
            value.seek(0)  # an uploaded file is read again by each persona's request
    role_may = expected(persona, entry.action, None)
    if entry.kind == LIST:
        allowed = role_may
    else:
        (target,) = cases
        allowed = expected(persona, entry.action, None if entry.kind == OWN else target)
        if entry.kept_for_officials and kept_for_officials(persona):
            allowed = False
    before = events.before() if not allowed else 0
    if entry.method == "get":
        response = client.get(case.path)
    else:
        response = client.post(case.path, case.data or {})
    status = response.status_code
    cache = response.get("Cache-Control", "")
    outcome.check("no-store" in cache and "private" in cache, who, f"Cache-Control {cache!r}")

    if not allowed:
        _refused(response, before, outcome, who, cases)
        return
    if entry.kind == LIST:
        outcome.check(status in (200, 302), who, f"list page answered {status}")
        for target, each in cases.items():
            shown = each.happened(response)
            should = expected(persona, entry.action, target)
            outcome.check(
                shown == should,
                f"{persona.name}@{target}",
                f"target {target} shown={shown}, expected {should}",
            )
        return
    outcome.check(200 <= status < 400, who, f"allowed but answered {status}")
    outcome.check(case.happened(response), who, "allowed but the effect did not happen")


def _refused(
    response: HttpResponse, events: int, outcome: Outcome, who: str, cases: dict[str, Case]
) -> None:
    outcome.check(response.status_code == 403, who, f"refused but answered {response.status_code}")
    body = response.content.decode() if response.status_code == 403 else ""
    outcome.check('class="refusal"' in body, who, "refusal page without its explanation")
    outcome.check(audit_events() == events, who, "refused but audited")
    for target, case in cases.items():
        outcome.check(
            not case.happened(response),
            f"{who.split('@')[0]}@{target}",
            "refused but the effect happened",
        )


def test_personas_cover_every_role_in_each_of_three_municipalities() -> None:
    for municipality in p.MUNICIPALITIES:
        roles = {
            persona.role
            for persona in p.PERSONAS
            if persona.municipality == municipality and not persona.superuser
        }
        assert roles == set(Role.values), municipality
    assert {persona.municipality for persona in p.PERSONAS} == {*p.MUNICIPALITIES, None}
    assert set(p.OWNER_OF_TARGET.values()) == set(p.MUNICIPALITIES)
    assert set(p.TARGETS) == set(p.OWNER_OF_TARGET)
    assert re.search(r"\| hand_over \| site \|", DOCS.read_text(encoding="utf-8"))


MOVES_READ = {
    # a move on one object: (the object's table, the tables its read joins)
    "ticket": ("walkins_queueticket", {"offices_site"}),
    "card": ("issuance_cardrecord", {"offices_municipality"}),
    "booking": ("reservations_reservation", {"reservations_slot", "offices_site"}),
}


def test_a_move_reads_its_object_with_what_the_rule_asks_about(
    signed_in_personas: p.SignedIn, frozen: Any
) -> None:
    """A move on one ticket, card or booking reads the object joined to what the access rule
    asks about — its site, its municipality — and to nothing a page would show (the ticket's
    procedure and booking, the card's hand-over member and terminal): the move's service reads
    the object again, locked or by its code. Asked by another municipality's manager (refused,
    nothing changes) and by the home manager (allowed)."""
    ctx = Ctx(signed_in_personas.world, "a", None, frozen)
    booked = booked_renewal(ctx)
    ticket = waiting_ticket(ctx)
    card = cards.card(ctx.owner, status=CardStatus.DELIVERED)
    moves = {
        "ticket": (f"/staff/queue/tickets/{ticket.pk}/cancel/", {}),
        "card": (f"/staff/issuance/cards/{card.pk}/act/", {"action": "inspect"}),
        "booking": (f"/staff/reservations/{booked.code}/no-show/", {}),
    }
    for name, status in (("foreign_manager", 403), ("manager", 302)):
        for what, (path, data) in moves.items():
            table, joined = MOVES_READ[what]
            sent = _statements_of(signed_in_personas.client(name), path, data, status)
            read = next(
                sql for sql in sent if sql.startswith("SELECT") and f'FROM "{table}"' in sql
            )
            assert set(re.findall(r'JOIN "(\w+)"', read)) == joined, (name, what, read)


def _statements_of(client: Any, path: str, data: dict[str, str], status: int) -> list[str]:
    """The statements `client`'s POST to `path` sends (in a savepoint rolled back after it),
    its answer checked to be `status`."""
    sent: list[str] = []

    def record(execute: Any, sql: str, *args: Any) -> Any:
        sent.append(sql)
        return execute(sql, *args)

    with rolled_back(), connection.execute_wrapper(record):
        response = client.post(path, data)
    assert response.status_code == status, (path, response.status_code)
    return sent
