"""Back-office work in the staffing plan on live data (issue 15.2/15.6): set-up and notices of
the cards delivered may wait for the weeks the municipality's policy allows, set-up shares the
integrated terminals with the weekday counters, and the deadline holds."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from madoguchi.forecasts.models import PlanningPolicy, policy_for
from madoguchi.forecasts.staffing_cache import settings_for
from madoguchi.forecasts.staffing_plan import (
    StaffingInput,
    StaffingOutcome,
    solve_staffing_plan,
    staffing_input,
)
from madoguchi.offices.models import Municipality, SiteKind
from tests import personas
from tests.forecasts.test_staffing_claim import _register_expiring_in_the_horizon

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)
DEMO_CITY = personas.DemoCity(residents=150, seed=3)


def _plan(city: Municipality, **policy: int) -> tuple[StaffingInput, StaffingOutcome]:
    PlanningPolicy.objects.update_or_create(municipality=city, defaults=policy)
    settings = settings_for(
        policy_for(city.pk),
        {
            "weeks": "8",
            "take_up": "90",
            "lead_time_weeks": "2",
            "weekday_cost": "1",
            "evening_cost": "1.25",
            "weekend_cost": "1.5",
        },
    )
    staffing = staffing_input(city, today=TODAY, settings=settings)
    return staffing, solve_staffing_plan(staffing)


def test_a_delivery_spike_waits_within_the_policys_deadlines_and_no_longer(
    demo_city: Municipality,
) -> None:
    """20,000 cards expiring in the horizon: their delivery (set-up 5 min, notices 2 min a card)
    rises from ~2 to ~340 back-office hours a week. Done in the week the cards arrive, set-up
    does not fit beside the weekday counters on the terminals: no plan. Allowed two weeks, the
    plan spreads it — its busiest back-office week is lighter than the busiest delivery week —
    and by every week it has done all that arrived two weeks earlier."""
    personas.roomy_demo_sites(demo_city, today=TODAY)  # the offices the spike is worked out on
    _register_expiring_in_the_horizon(demo_city, 20_000)
    _, strict = _plan(demo_city, setup_deadline_days=0, notice_delay_weeks=0)
    assert strict.plan is None and strict.error

    staffing, outcome = _plan(demo_city, setup_deadline_days=14, notice_delay_weeks=2)
    plan = outcome.plan
    assert plan is not None, outcome.error
    works = {work.name: work for work in staffing.problem.back_office_work}
    assert {name: work.deadline_days for name, work in works.items()} == {
        "setup": 14,
        "notice": 14,
    }
    assert works["setup"].needs_terminal and not works["notice"].needs_terminal
    for name, work in works.items():
        arisen = np.cumsum(work.hours.sum(axis=1))
        done = np.cumsum(plan.back_office_done[name].sum(axis=1))
        assert (done <= arisen + 1e-6).all()  # nothing is done before its cards arrive
        assert (done[2:] >= arisen[:-2] - 1e-6).all(), name  # the deadline holds
    arising = staffing.back_office_hours.sum(axis=1)
    assert plan.back_office_hours is not None
    done_weekly = plan.back_office_hours.sum(axis=1)
    assert done_weekly.max() < arising.max() - 1.0
    # set-up shares the terminal-hours with the counter-sessions at every site
    hours = np.array([kind.session_hours for kind in staffing.problem.session_kinds])
    counters = plan.counter_sessions @ hours
    setup = plan.back_office_done["setup"]
    assert staffing.problem.terminal_hours_per_week is not None
    assert (counters + setup <= staffing.problem.terminal_hours_per_week + 1e-6).all()


def test_the_terminal_hours_are_each_sites_active_terminals_in_its_sessions(
    demo_city: Municipality,
) -> None:
    staffing, _ = _plan(demo_city)
    problem = staffing.problem
    assert problem.terminal_hours_per_week is not None and problem.site_kind_days is not None
    for index, site in enumerate(staffing.sites):
        terminals = site.terminals.filter(is_active=True).count()
        week = sum(
            kind.session_hours * problem.site_kind_days[index, k]
            for k, kind in enumerate(problem.session_kinds)
        )
        assert problem.terminal_hours_per_week[index] == pytest.approx(terminals * week)
    main = staffing.sites.index(next(s for s in staffing.sites if s.kind == SiteKind.MAIN_OFFICE))
    assert problem.terminal_hours_per_week[main] > 0


def test_the_policys_set_up_deadline_reaches_the_plan_in_days(demo_city: Municipality) -> None:
    PlanningPolicy.objects.update_or_create(
        municipality=demo_city, defaults={"setup_deadline_days": 10, "notice_delay_weeks": 2}
    )
    settings = settings_for(policy_for(demo_city.pk), None)
    assert (settings.setup_deadline_days, settings.notice_deadline_days) == (10, 14)
    staffing = staffing_input(demo_city, today=TODAY, settings=settings)
    works = {work.name: work for work in staffing.problem.back_office_work}
    assert works["setup"].deadline_days == 10 and works["notice"].deadline_days == 14
    # 10 days: a delivery week's set-up may all wait one week and 3/7 of it a second
    setup = works["setup"]
    weekly = setup.hours.sum(axis=1)
    waiting = setup.may_wait().sum(axis=1)
    assert waiting[1:] == pytest.approx(weekly[1:] + weekly[:-1] * 3 / 7)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"setup_deadline_days": 57}, "交付前設定を終えるまでの日数は0〜56日で入力してください。"),
        (
            {"setup_deadline_days": 14, "notice_delay_weeks": 1},
            "交付前設定は通知書の発送までに終える必要があります。"
            "日数を通知書の発送までの週数×7日以下にしてください。",
        ),
        (  # a day past the notice's week: counted in days, no longer rounded down to it
            {"setup_deadline_days": 8, "notice_delay_weeks": 1},
            "交付前設定は通知書の発送までに終える必要があります。"
            "日数を通知書の発送までの週数×7日以下にしてください。",
        ),
    ],
)
def test_a_set_up_deadline_out_of_range_is_refused_in_japanese(
    demo_city: Municipality, values: dict[str, int], message: str
) -> None:
    policy = PlanningPolicy(municipality=demo_city, **values)
    with pytest.raises(ValidationError) as refused:
        policy.full_clean()
    assert refused.value.message_dict["setup_deadline_days"] == [message]
