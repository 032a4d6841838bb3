"""All the counter work on live data, and the counters, staff and terminals it needs per site
and session kind: the policy's minutes and shares reach the numbers, the recommended counters
meet the service level in the simulation and one fewer do not, and the planning page shows them
beside the current configuration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from madoguchi.forecasts.models import PlanningPolicy
from madoguchi.forecasts.selectors import CounterNeeds, SessionNeed, counter_needs
from madoguchi.offices.models import Municipality
from madoguchi.planning.queueing import counters_for_mixed_demand
from madoguchi.planning.service_level import simulated_walkin_level
from madoguchi.staff.models import StaffUser
from tests import personas
from tests.conftest import login_staff

pytestmark = pytest.mark.django_db
DEMO_CITY = personas.DemoCity(residents=400, seed=3)
"""The demo city of tests/forecasts/test_planning_pages.py."""

START = dt.date(2026, 12, 1)


def _needs(municipality: Municipality) -> CounterNeeds:
    needs = counter_needs(municipality, start=START, months=12, take_up=0.9)
    assert needs is not None
    return needs


def _busy(municipality: Municipality, **overrides: object) -> PlanningPolicy:
    """A policy that brings the 400-resident demo city a real queue: PIN resets and other
    visits at rates far beyond what the admin accepts (set directly; they stand in for a
    city a hundred times its size)."""
    values: dict[str, object] = {
        "pin_resets_per_1000_per_month": Decimal("5000"),
        "other_visits_per_1000_per_month": Decimal("4000"),
    }
    values.update(overrides)
    policy, _ = PlanningPolicy.objects.update_or_create(municipality=municipality, defaults=values)
    return policy


def test_every_kind_of_work_is_counted_with_the_policys_minutes(
    demo_city: Municipality,
) -> None:
    base = {row.kind: row for row in _needs(demo_city).work}
    assert set(base) == {
        "card_pickup",
        "cert_renewal",
        "application",
        "application_in_person",
        "pin_reset",
        "other_visit",
        "setup",
        "notice",
    }
    assert base["card_pickup"].minutes == 20 and base["cert_renewal"].minutes == 10
    assert base["setup"].horizon_count > 0 and not base["setup"].at_counter
    # every delivered card is set up and gets a notice (or is mailed)
    assert base["notice"].horizon_count == pytest.approx(base["setup"].horizon_count)
    _busy(demo_city, card_pickup_minutes=40)
    slower = {row.kind: row for row in _needs(demo_city).work}
    assert slower["card_pickup"].minutes == 40
    assert slower["pin_reset"].horizon_count > base["pin_reset"].horizon_count


def test_applying_in_person_moves_the_hand_over_off_the_counter(
    demo_city: Municipality,
) -> None:
    _busy(demo_city, counter_application_percent=100, apply_in_person_percent=100)
    work = {row.kind: row for row in _needs(demo_city).work}
    assert work["card_pickup"].horizon_count == 0  # every card is mailed
    assert work["application"].horizon_count == 0
    assert work["application_in_person"].horizon_count > 0
    assert work["notice"].horizon_count > 0  # the mailing is back-office work


def test_new_cards_never_exceed_the_residents_without_one(
    demo_city: Municipality,
) -> None:
    assert not _needs(demo_city).new_cards_capped
    _busy(demo_city, new_cards_per_1000_per_year=Decimal("1000"))
    assert _needs(demo_city).new_cards_capped


def _simulated_level(session: SessionNeed, counters: int) -> float:
    """An independent check: another seed, three times the walk-ins the advice simulated."""
    walkins_a_day = session.walkin_per_hour * session.session_minutes / 60
    return simulated_walkin_level(
        booked_per_hour=session.booked_per_hour,
        walkin_per_hour=session.walkin_per_hour,
        service_minutes=session.service_minutes,
        counters=counters,
        session_minutes=session.session_minutes,
        target_wait_minutes=20,
        days=max(60, round(18_000 / walkins_a_day)),
        seed=4242,
    )


def test_the_recommended_counters_per_session_meet_the_level_and_one_fewer_do_not(
    demo_city: Municipality,
) -> None:
    _busy(demo_city)
    needs = _needs(demo_city)
    checked = 0
    for site in needs.sites:
        for session in site.sessions:
            if session.advice.simulated_level is None:
                continue
            where = (site.site.name, session.label)
            assert _simulated_level(session, session.counters_needed) >= 0.8, where
            if session.counters_needed > 1:
                assert _simulated_level(session, session.counters_needed - 1) < 0.8, where
                checked += 1
    assert checked >= 2  # the busy city has sessions that need more than one counter


def test_residents_who_give_up_are_planned_with_erlang_a(
    demo_city: Municipality,
) -> None:
    _busy(demo_city, patience_minutes=10)
    needs = _needs(demo_city)
    share = demo_city.walkin_share_percent / 100
    for site in needs.sites:
        for session in site.sessions:
            assert session.advice.simulated_level is None  # giving up is not simulated
            per_hour = session.booked_per_hour + session.walkin_per_hour
            assert session.counters_needed == counters_for_mixed_demand(
                booked_per_hour=round(per_hour * (1 - share), 2),
                walkin_per_hour=round(per_hour * share, 2),
                service_minutes=round(session.service_minutes, 1),
                target_wait_minutes=20,
                service_level=0.8,
                patience_minutes=10,
            )


def test_terminals_follow_the_work_that_needs_one(
    demo_city: Municipality,
) -> None:
    _busy(demo_city)
    busy = _needs(demo_city)
    assert any(site.terminals_needed > 0 for site in busy.sites)
    for site in busy.sites:
        assert site.terminals_needed <= site.counters_needed + site.setup_terminals
        assert site.staff_hours >= site.counter_staff_hours
    no_terminal = {
        f"{kind}_needs_terminal": False
        for kind in ("card_pickup", "cert_renewal", "pin_reset", "setup")
    }
    _busy(demo_city, **no_terminal)
    assert all(site.terminals_needed == 0 for site in _needs(demo_city).sites)


def test_the_planning_page_shows_the_work_and_the_needs_beside_the_current_configuration(
    demo_city: Municipality,
) -> None:
    _busy(demo_city)
    needs = _needs(demo_city)
    client = Client()
    login_staff(client, StaffUser.objects.get(username="demo-manager"))
    html = client.get("/staff/planning/").content.decode()
    assert "窓口と事務の作業" in html and "届いたカードの検品と交付前設定（1枚あたり）" in html
    assert "窓口と開庁の種類ごと" in html and "平日夜間" in html
    for site in needs.sites:
        assert site.site.name in html
    assert "シミュレーションで目標時間内に呼ばれた割合" in html
