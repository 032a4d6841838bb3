"""Several municipalities on one deployment (offices.tenancy): generated over every public URL.

Three municipalities, each with its own site, slots, a booked card pick-up (booking code,
notice number), a walk-in ticket and a kiosk waiting for activation. Every URL of the public
URLconf (residents' pages, queue pages, the API) is asked through one municipality's door — its
`/m/<code>/` prefix or its host — with the ids, codes and tokens of another; no answer may
carry the other's site name, booking code, notice number, ticket token or slot links, and
none may answer 200 for another's object. The same URLs with the municipality's own objects
answer (the positive control); with the scoping switched off the check finds leaks (the
negative control). A new public URL needs a value for its parameters here, or the test fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.issuance.numbers import format_notice_number
from madoguchi.offices import tenancy
from madoguchi.offices.models import Municipality, Procedure, Site
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.walkins.kiosks import register_kiosk
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.services import issue_ticket
from tests.offices import factories as offices
from tests.resident_site.factories import BIRTH, VISIT_DAY, birth_fields, notice_card, slot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NAMES = {
    "999997": ("アルファ市", "アルファ市役所 本庁舎"),
    "999989": ("ベータ町", "ベータ町役場 住民課"),
    "999971": ("ガンマ村", "ガンマ村 総合支所"),
}


@dataclass
class Town:
    municipality: Municipality
    site: Site
    slot: Slot
    booking: Reservation
    notice: str
    ticket: QueueTicket
    kiosk_token: str

    @property
    def code(self) -> str:
        return self.municipality.code

    def markers(self) -> dict[str, str]:
        """What of this town must never appear in another town's answers."""
        return {
            "site name": self.site.name,
            "municipality name": self.municipality.name,
            "booking code": self.booking.code,
            "notice number": self.notice,
            "notice number as printed": format_notice_number(self.notice),
            "ticket token": self.ticket.token,
            "kiosk token": self.kiosk_token,
            "slot link": f"/slot/{self.slot.pk}/",
        }


def _town(code: str, index: int, pickup: Procedure, renewal: Procedure) -> Town:
    name, site_name = NAMES[code]
    municipality = offices.municipality(code=code, name=name)
    site = offices.site(municipality, name=site_name)
    site.procedures.set([pickup, renewal])
    notice = f"XYZ{700000 + index}"
    notice_card(municipality, notice=notice)
    booked_slot = slot(site, pickup, time="10:00")
    slot(site, renewal, time="11:00")
    booking = services.book_reservation(
        slot_id=booked_slot.pk,
        procedure_code="card_pickup",
        applicant=services.Applicant(birth_date=BIRTH, notice_number=notice),
        actor=Actor.resident(),
    )
    ticket = issue_ticket(site=site, procedure=renewal, actor=Actor.resident())
    _device, kiosk_token = register_kiosk(site=site, name="正面入口", actor=Actor.system("test"))
    return Town(municipality, site, booked_slot, booking, notice, ticket, kiosk_token)


@pytest.fixture
def towns() -> list[Town]:
    pickup = offices.procedure("card_pickup")
    renewal = offices.procedure("cert_renewal")
    return [_town(code, i, pickup, renewal) for i, code in enumerate(NAMES)]


# --- the public URLconf, walked ----------------------------------------------------------------

PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def public_routes() -> Iterator[tuple[str, str]]:
    """(name, route) of every public URL with a route string (the API's catch-all for unknown
    paths is a regular expression and answers 404 to everything)."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern) and not str(entry.pattern).startswith("^"):
                yield f"{namespace}{entry.name}", prefix + str(entry.pattern)

    yield from walk(get_resolver("madoguchi.public_urls").url_patterns, "", "")


def _value(name: str, parameter: str, town: Town) -> str:
    """The value of `parameter` in URL `name` naming `town`'s object."""
    if parameter == "token":
        return town.kiosk_token if name.endswith("kiosk_activate") else town.ticket.token
    values = {
        "procedure": "card_pickup",
        "site_id": str(town.site.pk),
        "slot_id": str(town.slot.pk),
        "date": VISIT_DAY.isoformat(),
        "code": town.booking.code,
    }
    if parameter not in values:
        pytest.fail(f"{name}: no value for the parameter {parameter!r} — add one here")
    return values[parameter]


QUERY = {
    "api_v1:list_slots": "?procedure=card_pickup",
    "api_v1:get_reservation": f"?birth_date={BIRTH.isoformat()}",
}
"""Query strings an API URL needs to answer at all."""


def filled(name: str, route: str, town: Town) -> str:
    path = PARAMETER.sub(lambda m: _value(name, m["name"], town), route)
    return "/" + path + QUERY.get(name, "")


@dataclass
class Door:
    """How a municipality's residents' site is reached: its path prefix or its host."""

    prefix: str
    host: str = "testserver"

    def client(self) -> Client:
        return Client(HTTP_HOST=self.host)


def by_path(town: Town) -> Door:
    return Door(prefix=f"/m/{town.code}")


def by_host(town: Town, settings: Any) -> Door:
    host = f"yoyaku-{town.code}.example.jp"
    settings.MUNICIPALITY_HOSTS = {**settings.MUNICIPALITY_HOSTS, host: town.code}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, host]
    return Door(prefix="", host=host)


def _lookup(client: Client, door: Door, town: Town) -> int:
    """The booking looked up on `door`'s site with `town`'s code (as a resident would)."""
    answer = client.post(
        f"{door.prefix}/lookup/", {"code": town.booking.code, **birth_fields(BIRTH)}
    )
    return answer.status_code


def _body(answer: Any) -> str:
    raw: bytes = (
        b"".join(answer.streaming_content)
        if getattr(answer, "streaming", False)
        else answer.content
    )
    return raw.decode(errors="replace")


def leaks(door: Door, other: Town, other_door: Door) -> list[str]:
    """Every answer of `door`'s site that shows `other`'s data or answers 200 for `other`'s
    object. The browser also looked `other`'s booking up on `other`'s own site first (path-based
    sites share cookies)."""
    client = door.client()
    found: list[str] = []
    other_client = other_door.client()
    assert _lookup(other_client, other_door, other) == 302
    client.cookies = other_client.cookies  # the same browser
    for name, route in public_routes():
        path = filled(name, route, other)
        answer = client.get(door.prefix + path)
        # the page's own address (the language switch's `next`, a form posting back) is
        # what was asked, not what was answered
        body = _body(answer).replace(door.prefix + path, "")
        shown = [what for what, marker in other.markers().items() if marker in body]
        if shown:
            found.append(f"GET {door.prefix}{path} ({name}): shows {', '.join(shown)}")
        names_object = PARAMETER.search(route) is not None and "procedure>" not in route
        if names_object and answer.status_code == 200:
            found.append(f"GET {door.prefix}{path} ({name}): 200 for another's object")
    return found


def test_no_public_answer_shows_another_municipalitys_data(
    towns: list[Town], settings: Any
) -> None:
    found = []
    for index, town in enumerate(towns):
        other = towns[(index + 1) % len(towns)]
        found += leaks(by_path(town), other, by_path(other))
    # one municipality reached by its own host, the others by their paths
    found += leaks(by_host(towns[0], settings), towns[2], by_path(towns[2]))
    assert found == []


def test_each_municipality_sees_its_own_objects_through_its_door(
    towns: list[Town], settings: Any
) -> None:
    """The positive control: the same URLs with the door's own objects answer, and the pages
    listing sites show the door's own site."""
    for town, door in ((towns[0], by_path(towns[0])), (towns[1], by_host(towns[1], settings))):
        client = door.client()
        assert _lookup(client, door, town) == 302
        statuses = {}
        for name, route in public_routes():
            answer = client.get(door.prefix + filled(name, route, town))
            statuses[name] = answer.status_code
            if name in ("resident_site:home", "resident_site:sites", "queue_board:index"):
                assert town.site.name in _body(answer), name
            if name in ("resident_site:reservation", "api_v1:get_reservation"):
                assert town.booking.code in _body(answer), name
        # 405: a route that takes a POST only; the kiosk answers 403 to a browser that is not
        # a registered tablet; the API's root is no resource. Nothing else is refused.
        refused = {n: s for n, s in statuses.items() if s >= 400 and s != 405}
        assert set(refused) <= {"queue_board:kiosk", "api_v1:api-root"}, refused


def test_with_the_scoping_switched_off_the_check_finds_leaks(
    towns: list[Town], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The negative control: a middleware that takes the prefix off but sets no municipality
    (every view then reads every municipality's data) is caught."""
    original = tenancy.MunicipalityMiddleware._under_prefix

    def forgetting(self: Any, request: HttpRequest, municipality: Any, rest: str) -> Any:
        get_response = self.get_response

        def without_municipality(req: HttpRequest) -> Any:
            req.municipality = None  # type: ignore[attr-defined]
            return get_response(req)

        self.get_response = without_municipality
        try:
            return original(self, request, municipality, rest)
        finally:
            self.get_response = get_response

    monkeypatch.setattr(tenancy.MunicipalityMiddleware, "_under_prefix", forgetting)
    found = leaks(by_path(towns[0]), towns[1], by_path(towns[1]))
    assert any("resident_site:home" in line for line in found), found
    assert any("booking code" in line for line in found), found


# --- booking another municipality's slot --------------------------------------------------------


def _renewal(slot_id: int) -> str:
    return json.dumps(
        {
            "slot_id": slot_id,
            "procedure": "cert_renewal",
            "birth_date": BIRTH.isoformat(),
            "family_name_kana": "ヤマダ",
            "given_name_kana": "ハナコ",
            "phone": "0312345678",
        }
    )


def test_a_booking_for_another_municipalitys_slot_is_refused_on_every_door(
    towns: list[Town],
) -> None:
    mine, theirs = towns[0], towns[1]
    renewal = Procedure.objects.get(code="cert_renewal")
    free = slot(theirs.site, renewal, time="14:00")
    before = Reservation.objects.count()
    client = Client()
    page = client.post(
        f"/m/{mine.code}/book/cert_renewal/slot/{free.pk}/",
        {
            "family_name_kana": "ヤマダ",
            "given_name_kana": "ハナコ",
            "phone": "0312345678",
            **birth_fields(BIRTH),
        },
    )
    assert page.status_code == 404
    api = client.post(
        f"/m/{mine.code}/api/v1/reservations", _renewal(free.pk), content_type="application/json"
    )
    assert api.status_code == 422 and api.json()["error"] == "invalid_slot"
    assert Reservation.objects.count() == before
    # moving one's own booking to another municipality's slot: refused the same way
    moved = client.post(
        f"/m/{mine.code}/api/v1/reservations/{mine.booking.code}/reschedule",
        json.dumps({"slot_id": theirs.slot.pk, "birth_date": BIRTH.isoformat()}),
        content_type="application/json",
    )
    assert moved.status_code == 422 and moved.json()["error"] == "invalid_slot"
    mine.booking.refresh_from_db()
    assert mine.booking.slot_id == mine.slot.pk
    # the service itself refuses, whichever interface asks
    with pytest.raises(DomainError) as refused:
        services.book_reservation(
            slot_id=free.pk,
            procedure_code="cert_renewal",
            applicant=services.Applicant(
                birth_date=BIRTH, family_name_kana="ヤマダ", given_name_kana="ハナコ"
            ),
            actor=Actor.resident(),
            municipality=mine.municipality,
        )
    assert refused.value.code == "invalid_slot"
    # the same booking through the right door is taken (the control)
    own = client.post(
        f"/m/{theirs.code}/api/v1/reservations", _renewal(free.pk), content_type="application/json"
    )
    assert own.status_code == 201, own.content
    assert Reservation.objects.count() == before + 1
