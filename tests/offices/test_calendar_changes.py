"""A change to a site's calendar in the admin (a closure, weekly hours, a special opening) takes
effect on the residents' side at once: the slots are made to match it in the same save, so a
day a manager has just closed cannot be booked until the nightly `generate-slots` runs; the
bookings already on it are kept, flagged, and named to the manager on the spot."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.reservations.models import ReservationStatus, Slot
from madoguchi.reservations.selectors import bookable_slots
from madoguchi.reservations.slots import regenerate_site_slots
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import login_staff
from tests.resident_site import factories
from tests.resident_site.factories import VISIT_DAY

pytestmark = [pytest.mark.django_db, pytest.mark.frozen_at(factories.NOW)]


@pytest.fixture
def town(frozen: Any) -> factories.City:
    city = factories.city()
    regenerate_site_slots(
        site=city.site,
        first=clock.today(),
        last=clock.today() + dt.timedelta(weeks=8),
        actor=Actor.system("test"),
    )
    return city


@pytest.fixture
def manager(town: factories.City) -> Client:
    """The municipality's administrator in the admin."""
    user = StaffUser.objects.create_superuser(
        "admin", password="pw", role=Role.ADMINISTRATOR, municipality=town.municipality
    )
    client = Client()
    login_staff(client, user)
    return client


def _offered_on(town: factories.City, day: dt.date) -> list[int]:
    return [
        s.pk
        for s in bookable_slots(
            site_id=town.site.pk, procedure_code="cert_renewal", date_from=day, date_to=day
        )
    ]


def _closure(town: factories.City, day: dt.date) -> dict[str, str]:
    return {
        "municipality": str(town.municipality.pk),
        "site": "",
        "kind": "other",
        "first_day": day.isoformat(),
        "last_day": "",
        "reason": "庁舎の停電工事",
    }


def test_a_day_closed_in_the_admin_is_no_longer_offered_and_its_bookings_are_named(
    town: factories.City, manager: Client
) -> None:
    booked = factories.book_card_pickup(town, "10:00")
    assert _offered_on(town, VISIT_DAY)  # bookable before
    other_day = VISIT_DAY + dt.timedelta(days=1)
    offered_the_next_day = _offered_on(town, other_day)

    response = manager.post("/admin/offices/closure/add/", _closure(town, VISIT_DAY), follow=True)

    assert response.status_code == 200
    assert _offered_on(town, VISIT_DAY) == []  # at once, not after the nightly job
    assert _offered_on(town, other_day) == offered_the_next_day  # nothing else moved
    kept = Slot.objects.get(pk=booked.slot_id)
    assert (kept.is_offered, kept.booked, kept.conflict_reason != "") == (False, 1, True)
    booked.refresh_from_db()
    assert booked.status == ReservationStatus.BOOKED  # nothing stored is lost
    page = response.content.decode()
    assert "予約の入っている枠が1件" in page
    assert f"{VISIT_DAY:%Y-%m-%d} 10:00" in page


def test_removing_the_closure_offers_the_day_again(town: factories.City, manager: Client) -> None:
    manager.post("/admin/offices/closure/add/", _closure(town, VISIT_DAY))
    assert _offered_on(town, VISIT_DAY) == []
    (closure,) = town.municipality.closures.all()
    response = manager.post(f"/admin/offices/closure/{closure.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert _offered_on(town, VISIT_DAY) != []


def test_a_special_opening_on_a_saturday_is_bookable_at_once(
    town: factories.City, manager: Client
) -> None:
    saturday = VISIT_DAY + dt.timedelta(days=3)
    assert saturday.weekday() == 5 and _offered_on(town, saturday) == []
    response = manager.post(
        "/admin/offices/specialopening/add/",
        {
            "site": str(town.site.pk),
            "day": saturday.isoformat(),
            "starts_at_time": "09:00",
            "ends_at_time": "12:00",
            "counters_open": "1",
            "reason": "休日開庁",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _offered_on(town, saturday) != []


def test_a_longer_booking_window_set_in_the_admin_has_times_at_once(
    town: factories.City, manager: Client
) -> None:
    """The municipality's booking window is part of what the slots follow: made longer in the
    admin, its new days have times to book from that save (the nightly run covers it too)."""
    from django.contrib.admin import site as admin_site
    from django.test import RequestFactory

    from madoguchi.offices.models import Municipality

    municipality = town.municipality
    far = clock.today() + dt.timedelta(days=100)
    while far.weekday() >= 5:
        far -= dt.timedelta(days=1)
    assert _offered_on(town, far) == []
    model_admin = admin_site._registry[Municipality]
    request = RequestFactory().get("/")
    request.user = StaffUser.objects.get(username="admin")
    form = model_admin.get_form(request, municipality)(instance=municipality)
    data: dict[str, object] = {}
    for name in form.fields:  # the form as the page shows it, unchecked boxes left out
        value = form[name].value()
        if value is not None and value is not False:
            data[name] = value
    data["booking_window_max_days"] = "120"
    response = manager.post(f"/admin/offices/municipality/{municipality.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    municipality.refresh_from_db()
    assert municipality.booking_window_max_days == 120
    assert _offered_on(town, far) != []
