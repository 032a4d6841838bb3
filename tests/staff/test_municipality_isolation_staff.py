"""Three municipalities on one deployment, the staff side: every staff URL of the URLconf,
asked by a member of every role of each municipality with the municipality's own objects
(sites, counters, cards, notice batches, bookings, tickets, kiosks), never shows another
municipality's data — site names, card holders' names, notice numbers, booking codes — in a
page, a CSV or an XLSX workbook. Refusals of another municipality's objects are the access
matrix's "other municipality" column (tests/staff/test_access_matrix.py); this test covers the
lists, searches, statistics and exports that gather many objects at once. A staff URL with a
parameter this test cannot fill fails it (add a value here).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.issuance.models import CardRecord, CardStatus, NoticeBatch
from madoguchi.offices.models import Counter, Municipality, Site
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.kiosks import register_kiosk
from madoguchi.walkins.models import KioskDevice, QueueTicket
from madoguchi.walkins.services import issue_ticket
from tests.conftest import login_staff
from tests.issuance import factories as cards
from tests.offices import factories as offices
from tests.resident_site.factories import VISIT_DAY, slot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

TOWNS = (
    ("999997", "アルファ市", "アルファ市役所 本庁舎", "甲田", "コウダ"),
    ("999989", "ベータ町", "ベータ町役場 住民課", "乙川", "オツカワ"),
    ("999971", "ガンマ村", "ガンマ村 総合支所", "丙山", "ヘイヤマ"),
)
SIGN_IN = {"staff:login", "staff:logout", "staff:otp", "staff:otp_enrol", "staff:backup_codes"}


@dataclass
class Town:
    municipality: Municipality
    site: Site
    counter: Counter
    card: CardRecord
    batch: NoticeBatch
    booking: Reservation
    ticket: QueueTicket
    kiosk: KioskDevice
    manager: StaffUser
    family_name: str
    members: tuple[StaffUser, ...] = ()
    """Everyone of the municipality who signs in: a member of every role."""

    def markers(self) -> dict[str, str]:
        return {
            "site name": self.site.name,
            "card holder": self.family_name,
            "notice number": self.card.notice_number or "",
            "booking code": self.booking.code,
        }


def _town(code: str, name: str, site_name: str, family: str, kana: str) -> Town:
    municipality = offices.municipality(code=code, name=name)
    site = offices.site(municipality, name=site_name)
    pickup = offices.procedure("card_pickup")
    renewal = offices.procedure("cert_renewal")
    site.procedures.set([pickup, renewal])
    batch = NoticeBatch.objects.create(
        municipality=municipality, created_at=clock.now(), created_by="test", cards=1
    )
    card = cards.card(
        municipality,
        status=CardStatus.NOTICE_ISSUED,
        notice_batch=batch,
        family_name=family,
        family_name_kana=kana,
    )
    booked = slot(site, pickup, time="10:00")
    booking = services.book_reservation(
        slot_id=booked.pk,
        procedure_code="card_pickup",
        applicant=services.Applicant(birth_date=card.birth_date, notice_number=card.notice_number),
        actor=Actor.resident(),
    )
    ticket = issue_ticket(site=site, procedure=renewal, actor=Actor.resident())
    kiosk, _token = register_kiosk(site=site, name="正面入口", actor=Actor.system("test"))
    members = []
    for role in Role.values:
        member = StaffUser.objects.create_user(
            f"{role}-{code}", password="x", role=role, municipality=municipality
        )
        member.sites.set([site])
        members.append(member)
    manager = next(m for m in members if m.role == Role.MANAGER)
    return Town(
        municipality,
        site,
        site.counters.order_by("pk").first() or Counter.objects.create(site=site, name="1番"),
        card,
        batch,
        booking,
        ticket,
        kiosk,
        manager,
        family,
        tuple(members),
    )


@pytest.fixture
def towns() -> list[Town]:
    return [_town(*spec) for spec in TOWNS]


PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def staff_routes() -> Iterator[tuple[str, str]]:
    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if route.startswith("staff/"):
                    yield f"{namespace}{entry.name}", route

    yield from walk(get_resolver().url_patterns, "", "")


def _value(name: str, parameter: str, town: Town) -> str:
    values = {
        "site_id": town.site.pk,
        "counter_id": town.counter.pk,
        "card_id": town.card.pk,
        "batch_id": town.batch.pk,
        "code": town.booking.code,
        "ticket_id": town.ticket.pk,
        "device_id": town.kiosk.pk,
        "action": "recall",
        # a trusted report key is the deployment's roll-up's, no municipality's (POST only)
        "key_id": 1,
    }
    if parameter not in values:
        pytest.fail(f"{name}: no value for the parameter {parameter!r} — add one here")
    return str(values[parameter])


def filled(name: str, route: str, town: Town) -> str:
    return PARAMETER.sub(lambda m: _value(name, m["name"], town), route)


def _text(answer: Any) -> str:
    raw: bytes = (
        b"".join(answer.streaming_content)
        if getattr(answer, "streaming", False)
        else answer.content
    )
    if answer.get("Content-Type", "").startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    ):
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    return raw.decode("utf-8-sig", errors="replace")


def shown_elsewhere(
    towns: list[Town], *, until: str | None = None
) -> tuple[list[str], dict[str, int]]:
    """Every staff answer to a town's manager that shows another town's data (the walk stops
    at the first finding that holds `until`, if given); and how many answers of each status the
    walk got (so a walk refused everywhere cannot pass)."""
    found: list[str] = []
    statuses: dict[str, int] = {}
    for town, member in ((t, m) for t in towns for m in t.members):
        client = Client()
        login_staff(client, member)
        others = [t for t in towns if t is not town]
        for name, route in staff_routes():
            if name in SIGN_IN:
                continue
            path = "/" + filled(name, route, town)
            answer = client.get(path)
            statuses[str(answer.status_code)] = statuses.get(str(answer.status_code), 0) + 1
            body = _text(answer)
            for other in others:
                shown = [what for what, marker in other.markers().items() if marker in body]
                if shown:
                    found.append(
                        f"{member.username}: GET {path} shows {other.site.name}'s "
                        + ", ".join(shown)
                    )
                    if until is not None and until in found[-1]:
                        return found, statuses
    return found, statuses


def test_no_staff_page_or_export_shows_another_municipalitys_data(towns: list[Town]) -> None:
    found, statuses = shown_elsewhere(towns)
    assert found == []
    assert statuses.get("200", 0) >= 3 * len(Role.values) * 5, (
        statuses
    )  # the walk was answered, not refused


def test_each_manager_sees_their_own_municipalitys_data(towns: list[Town]) -> None:
    """The positive control: the lists show the manager's own data."""
    for town in towns:
        client = Client()
        login_staff(client, town.manager)
        assert town.site.name in _text(client.get("/staff/"))
        assert town.family_name in _text(
            client.get("/staff/issuance/cards/", {"q": town.card.application_id}, follow=True)
        )
        assert town.booking.code in _text(
            client.get(f"/staff/sites/{town.site.pk}/?day={VISIT_DAY}")
        )


def test_with_the_site_scope_switched_off_the_walk_finds_leaks(
    towns: list[Town], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The negative control: the access rule's site lists unscoped (every site of the
    deployment, as a bug in `access.sites_in_scope` would give) is caught by the walk: the staff
    menu shows other municipalities' sites (the walk stops there)."""
    from madoguchi.offices.selectors import active_sites
    from madoguchi.staff import access

    monkeypatch.setattr(access, "sites_in_scope", lambda user, action: list(active_sites()))
    found, _statuses = shown_elsewhere(towns, until="GET /staff/ shows")
    assert any("GET /staff/ shows" in line for line in found), found
