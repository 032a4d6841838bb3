"""Builders for slots and applicants in reservation tests."""

from __future__ import annotations

import datetime as dt

from madoguchi.core import clock
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.offices.models import Municipality, Procedure, Site
from madoguchi.reservations.models import Slot
from madoguchi.reservations.services import Applicant
from tests.frozen_clock import BOOKINGS_NOW

NOW = BOOKINGS_NOW  # a Tuesday
VISIT_DAY = dt.date(2026, 12, 7)  # the Monday after: 6 days ahead, inside the 3..45 window


def slot(
    site: Site,
    procedure: Procedure,
    *,
    day: dt.date = VISIT_DAY,
    time: str = "10:00",
    capacity: int = 2,
    booked: int = 0,
) -> Slot:
    starts = clock.at(day, dt.time.fromisoformat(time))
    return Slot.objects.create(
        site=site,
        procedure=procedure,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=procedure.duration_minutes),
        capacity=capacity,
        booked=booked,
    )


def pickup(
    notice: str = "ABC123456", birth: dt.date = dt.date(1980, 5, 17), **kw: object
) -> Applicant:
    return Applicant(birth_date=birth, notice_number=notice, **kw)


def renewal(
    family: str = "ヤマダ",
    given: str = "ハナコ",
    birth: dt.date = dt.date(1975, 3, 3),
    email: str = "hanako@example.jp",
    **kw: object,
) -> Applicant:
    return Applicant(
        birth_date=birth,
        family_name_kana=family,
        given_name_kana=given,
        email=email,
        **kw,
    )


def card(
    owner: Municipality, notice: str = "ABC123456", birth: dt.date = dt.date(1980, 5, 17)
) -> CardRecord:
    """A card whose notice was mailed: bookable with `notice` and `birth`."""
    from tests.issuance.factories import card as issuance_card

    return issuance_card(
        owner, status=CardStatus.NOTICE_ISSUED, notice_number=notice, birth_date=birth
    )
