"""A small city for booking-page tests: one municipality, two procedures, one site, slots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.offices.models import Municipality, OpeningSession, Procedure, SessionKind, Site
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.reservations.slots import regenerate_site_slots
from madoguchi.reservations.visit import Visit
from tests.frozen_clock import RESIDENTS_NOW
from tests.issuance.factories import card as issuance_card
from tests.offices import factories as offices
from tests.personas import HOME_NAME
from tests.reservations import factories as reservations_factories

NOW = RESIDENTS_NOW  # a Monday; no holiday in June
VISIT_DAY = dt.date(2026, 6, 10)  # a Wednesday, 9 days ahead: inside the 3..45-day window
NOTICE = "ABC123456"
BIRTH = dt.date(1980, 5, 17)

PICKUP_DOCUMENTS = "交付通知書、本人確認書類（写真付き1点、または写真なし2点）、今お持ちのカード"
PICKUP_PROXY_DOCUMENTS = (
    "委任欄に記入した交付通知書、代理の理由を証明する書類、代理人の本人確認書類"
)


@dataclass
class City:
    municipality: Municipality
    site: Site
    pickup: Procedure
    renewal: Procedure


def city(*, saturday_hours: bool = False) -> City:
    owner = offices.municipality()
    pickup = offices.procedure(
        "card_pickup",
        name="マイナンバーカードの受け取り",
        documents=PICKUP_DOCUMENTS,
        proxy_documents=PICKUP_PROXY_DOCUMENTS,
    )
    renewal = offices.procedure(
        "cert_renewal",
        name="電子証明書の更新",
        proxy_allowed=True,
        documents="マイナンバーカード、暗証番号",
        proxy_documents="ご本人のマイナンバーカード、照会書、代理人の本人確認書類",
    )
    site = offices.site(
        owner, name="みどり本庁舎", address="みどり市中央1-1", postal_code="123-4567"
    )
    site.procedures.set([pickup, renewal])
    if saturday_hours:
        OpeningSession.objects.create(
            site=site,
            weekday=5,
            kind=SessionKind.WEEKEND,
            starts_at_time=dt.time(9, 0),
            ends_at_time=dt.time(12, 0),
            counters_open=1,
        )
    return City(owner, site, pickup, renewal)


def slot(
    site: Site,
    procedure: Procedure,
    *,
    day: dt.date = VISIT_DAY,
    time: str = "10:00",
    capacity: int = 3,
    booked: int = 0,
) -> Slot:
    return reservations_factories.slot(
        site, procedure, day=day, time=time, capacity=capacity, booked=booked
    )


def notice_card(owner: Municipality, notice: str = NOTICE, birth: dt.date = BIRTH) -> CardRecord:
    """A card whose notice was mailed: bookable with `notice` and `birth`."""
    return issuance_card(
        owner, status=CardStatus.NOTICE_ISSUED, notice_number=notice, birth_date=birth
    )


def city_with_june_slots(birth: dt.date = BIRTH) -> City:
    """A town (`city`) whose main site has its generated slots from 4 to 30 June 2026 and one
    card noticed to a resident born on `birth` — the world the residents' browser walks book in."""
    built = city()
    regenerate_site_slots(
        site=built.site,
        first=dt.date(2026, 6, 4),
        last=dt.date(2026, 6, 30),
        actor=Actor.system("test"),
    )
    notice_card(built.municipality, birth=birth)
    return built


def book_card_pickup(city: City, time: str = "10:00", n: int = 0) -> Reservation:
    """A resident's card pick-up on VISIT_DAY at `time`, with a card of its own (the notice
    number is ABC123456 + n)."""
    notice = f"ABC{123456 + n}"
    notice_card(city.municipality, notice=notice)
    slot_ = slot(city.site, city.pickup, time=time)
    return services.book_reservation(
        slot_id=slot_.pk,
        procedure_code="card_pickup",
        applicant=services.Applicant(birth_date=BIRTH, notice_number=notice),
        actor=Actor.resident(),
    )


def book_cert_renewal(city: City, time: str) -> Reservation:
    """A certificate renewal booked on VISIT_DAY at `time` by スズキ ジロウ (born BIRTH, phone
    0311112222)."""
    slot_ = slot(city.site, city.renewal, time=time)
    return services.book_reservation(
        slot_id=slot_.pk,
        procedure_code="cert_renewal",
        applicant=services.Applicant(
            birth_date=BIRTH,
            family_name_kana="スズキ",
            given_name_kana="ジロウ",
            phone="0311112222",
        ),
        actor=Actor.resident(),
    )


def birth_fields(day: dt.date = BIRTH, prefix: str = "birth_date") -> dict[str, str]:
    """The three selects' POST values for a birth date."""
    return {
        f"{prefix}_year": str(day.year),
        f"{prefix}_month": str(day.month),
        f"{prefix}_day": str(day.day),
    }


def visit(**overrides: Any) -> Visit:
    """A visit as the mails and the .ics see it (no database needed)."""
    fields: dict[str, Any] = {
        "code": "ACDEFGHJKL",
        "procedure_code": "card_pickup",
        "procedure_name": "マイナンバーカードの受け取り",
        "site_name": "みどり本庁舎",
        "site_address": "〒123-4567 みどり市中央1-1",
        "site_access_notes": "みどり駅から徒歩5分",
        "starts_at": clock.at(VISIT_DAY, dt.time(10, 0)),
        "ends_at": clock.at(VISIT_DAY, dt.time(10, 20)),
        "is_proxy": False,
        "documents": ("交付通知書", "本人確認書類（写真付き1点、または写真なし2点）"),
        "change_until": VISIT_DAY - dt.timedelta(days=2),
        "municipality": HOME_NAME,
        "contact": "市民課 03-1234-5678",
    }
    fields.update(overrides)
    return Visit(**fields)
