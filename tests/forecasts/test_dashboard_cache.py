"""The planning dashboard's figures are kept: a second view computes nothing, and any change of
what they are built from — a counter, a booked seat, a card, the day, the choices, the language,
the code — computes them again."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from madoguchi.core import clock
from madoguchi.forecasts import dashboard_cache
from madoguchi.forecasts.dashboard_cache import KEPT_PER_MUNICIPALITY, kept_figures
from madoguchi.forecasts.models import KeptDashboard
from madoguchi.issuance.models import CardStatus
from madoguchi.offices.models import Counter, Municipality, Site, SiteKind, SpecialOpening
from madoguchi.reservations.models import Slot
from madoguchi.staff.models import StaffUser
from madoguchi.staff_console.forecasts import views
from tests import personas
from tests.conftest import login_staff
from tests.frozen_clock import frozen_at
from tests.issuance import factories as issuance
from tests.offices import factories as offices

pytestmark = pytest.mark.django_db

DEMO_CITY = personas.DemoCity(residents=400, seed=3)  # test_planning_pages' world: built once


# --- the page --------------------------------------------------------------------------------


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[views.PlanningFigures]:
    """The figures the dashboard computed (not read back), in order."""
    built: list[views.PlanningFigures] = []
    compute = views.planning_figures

    def counting(municipality: Municipality, **kwargs: Any) -> views.PlanningFigures:
        built.append(compute(municipality, **kwargs))
        return built[-1]

    monkeypatch.setattr(views, "planning_figures", counting)
    return built


def _manager() -> Client:
    client = Client()
    login_staff(client, StaffUser.objects.get(username="demo-manager"))
    return client


def _page(client: Client, query: dict[str, Any] | None = None) -> str:
    response = client.get("/staff/planning/", query or {})
    assert response.status_code == 200
    html = response.content.decode()
    return re.sub(r'(nonce|name="csrfmiddlewaretoken" value)="[^"]*"', "", html)


def test_a_second_view_of_the_dashboard_computes_nothing_and_shows_the_same_page(
    demo_city: Municipality, computed: list[views.PlanningFigures]
) -> None:
    client = _manager()
    first = _page(client)
    assert len(computed) == 1
    second = _page(client)
    assert len(computed) == 1
    assert second == first
    assert "更新の見込み（月別）" in second and second.count("<svg") == 4


def test_a_special_opening_computes_the_figures_again_with_more_capacity(
    demo_city: Municipality, computed: list[views.PlanningFigures]
) -> None:
    client = _manager()
    _page(client)
    main = Site.objects.get(municipality=demo_city, kind=SiteKind.MAIN_OFFICE)
    SpecialOpening.objects.create(
        site=main,
        day=dt.date(2026, 12, 12),  # a Saturday
        starts_at_time=dt.time(9),
        ends_at_time=dt.time(12),
        counters_open=4,
        reason="臨時開庁",
    )
    _page(client)
    assert len(computed) == 2
    before, after = computed
    assert sum(after.plan.capacity_hours) > sum(before.plan.capacity_hours)
    Counter.objects.create(site=main, name="増設窓口")
    _page(client)
    assert len(computed) == 3


def test_a_seat_booked_or_a_card_noticed_computes_the_backlog_again(
    demo_city: Municipality, computed: list[views.PlanningFigures]
) -> None:
    client = _manager()
    _page(client)
    slot = Slot.objects.filter(site__municipality=demo_city, booked__lt=1, capacity__gt=0).first()
    assert slot is not None
    Slot.objects.filter(pk=slot.pk).update(booked=1)  # no model save: the digest still sees it
    _page(client)
    assert len(computed) == 2
    card = issuance.card(demo_city, status=CardStatus.DELIVERED)
    _page(client)
    assert len(computed) == 3
    assert computed[2].backlog.waiting_for_notice == computed[1].backlog.waiting_for_notice + 1
    card.status = CardStatus.INSPECTED
    card.save()
    _page(client)
    assert len(computed) == 4


def test_each_what_if_is_kept_apart_from_the_plain_page(
    demo_city: Municipality, computed: list[views.PlanningFigures]
) -> None:
    client = _manager()
    main = Site.objects.get(municipality=demo_city, kind=SiteKind.MAIN_OFFICE)
    what_if = {"months": 6, "take_up": 90, "site": main.pk, "saturday_counters": 4}
    plain = _page(client)
    tried = _page(client, what_if)
    assert "試算の能力" in tried and "試算の能力" not in plain
    assert len(computed) == 2
    assert _page(client, what_if) == tried and _page(client) == plain
    assert len(computed) == 2
    assert KeptDashboard.objects.filter(municipality=demo_city).count() == 2


# --- the keeping -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    number: int


@pytest.fixture
def town() -> Municipality:
    town = offices.municipality()
    offices.procedure("card_pickup")
    offices.site(town)
    return town


class Builder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> Figures:
        self.calls += 1
        return Figures(self.calls)


def test_kept_figures_are_read_back_until_the_day_changes(town: Municipality) -> None:
    build = Builder()
    first = kept_figures(town, choices={"months": 12}, build=build, kind=Figures)
    assert kept_figures(town, choices={"months": 12}, build=build, kind=Figures) == first
    assert build.calls == 1
    with frozen_at(clock.at(clock.today() + dt.timedelta(days=1), dt.time(9))):
        assert kept_figures(town, choices={"months": 12}, build=build, kind=Figures) != first
    assert build.calls == 2


def test_other_choices_another_language_or_another_code_are_computed_apart(
    town: Municipality, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = Builder()
    kept_figures(town, choices={"months": 12}, build=build, kind=Figures)
    kept_figures(town, choices={"months": 6}, build=build, kind=Figures)
    assert build.calls == 2
    with translation.override("en"):
        kept_figures(town, choices={"months": 12}, build=build, kind=Figures)
    assert build.calls == 3
    monkeypatch.setattr(dashboard_cache, "code_digest", lambda: "0" * 64)
    kept_figures(town, choices={"months": 12}, build=build, kind=Figures)
    assert build.calls == 4


def test_kept_figures_of_another_kind_are_computed_again(town: Municipality) -> None:
    kept_figures(town, choices={}, build=lambda: "not figures", kind=str)
    build = Builder()
    assert kept_figures(town, choices={}, build=build, kind=Figures) == Figures(1)
    assert build.calls == 1


def test_each_municipality_keeps_its_newest_choices_only(town: Municipality) -> None:
    other = offices.municipality(code="999997", name="あおば町")
    kept_figures(other, choices={"months": 1}, build=Builder(), kind=Figures)
    build = Builder()
    for months in range(KEPT_PER_MUNICIPALITY + 4):
        kept_figures(town, choices={"months": months}, build=build, kind=Figures)
    assert KeptDashboard.objects.filter(municipality=town).count() == KEPT_PER_MUNICIPALITY
    assert KeptDashboard.objects.filter(municipality=other).count() == 1
    newest = KEPT_PER_MUNICIPALITY + 3
    assert kept_figures(town, choices={"months": newest}, build=build, kind=Figures) == Figures(
        KEPT_PER_MUNICIPALITY + 4
    )
    kept_figures(town, choices={"months": 0}, build=build, kind=Figures)  # pruned: again
    assert build.calls == KEPT_PER_MUNICIPALITY + 5


def test_kept_figures_that_no_longer_unpickle_are_computed_again(town: Municipality) -> None:
    build = Builder()
    kept_figures(town, choices={}, build=build, kind=Figures)
    KeptDashboard.objects.filter(municipality=town).update(payload=b"not a pickle")
    assert kept_figures(town, choices={}, build=build, kind=Figures) == Figures(2)
    assert kept_figures(town, choices={}, build=build, kind=Figures) == Figures(2)  # kept again
