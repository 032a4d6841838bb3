"""The staffing plan under odd policies: no staff hours at all, one counter a site, every site
closed for two months — the page answers with a plan, or says plainly why there is none."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from madoguchi.forecasts.models import policy_for
from madoguchi.forecasts.staffing_plan import infeasible_message
from madoguchi.offices.models import Closure, Counter, Municipality, Site
from madoguchi.planning.staffing import StaffingInfeasibleError
from madoguchi.staff.models import StaffUser
from tests import personas
from tests.conftest import login_staff

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)
DEMO_CITY = personas.DemoCity(residents=150, seed=3)
CHOICES = {
    "weeks": 6,
    "take_up": 90,
    "lead_time_weeks": 2,
    "weekday_cost": "1",
    "evening_cost": "1.25",
    "weekend_cost": "1.5",
}


def _solved_page() -> str:
    client = Client()
    login_staff(client, StaffUser.objects.get(username="demo-manager"))
    solved = client.post("/staff/planning/staffing/solve/", CHOICES)
    assert solved.status_code == 302
    page = client.get(solved["Location"])
    assert page.status_code == 200
    return page.content.decode()


def test_a_staff_hours_limit_of_zero_is_named_as_the_reason_there_is_no_plan(
    demo_city: Municipality,
) -> None:
    """Not "lengthen the target or add counters" alone: the policy's own limit is what leaves
    no plan, and the page says so with its hours."""
    policy = policy_for(demo_city.pk)
    policy.staff_hours_per_week_limit = 0
    policy.save()
    html = _solved_page()
    assert "計画がありません" in html
    assert "窓口の時間の上限が週 0 時間" in html and "どの窓口も開けません" in html


def test_a_sites_diagnosis_also_names_the_limit_when_one_is_set() -> None:
    error = StaffingInfeasibleError(
        "site '本庁舎' cannot keep its lead time of 2 weeks by week 3: 250 counter-hours due,"
        " at most 120 available"
    )
    weeks = [dt.date(2026, 11, 30) + dt.timedelta(weeks=w) for w in range(6)]
    limited = infeasible_message(error, weeks, staff_hours_limit=1200)
    assert "「本庁舎」は12月14日の週まで" in limited and "週 1,200 時間" in limited
    assert "上限" not in infeasible_message(error, weeks)


def test_one_counter_a_site_still_gets_a_plan(demo_city: Municipality) -> None:
    for site in Site.objects.filter(municipality=demo_city):
        active = Counter.objects.filter(site=site, is_active=True).order_by("pk")
        Counter.objects.filter(pk__in=list(active.values_list("pk", flat=True))[1:]).update(
            is_active=False
        )
    html = _solved_page()
    assert "計算済みの計画" in html and "<svg" in html


def test_every_site_closed_for_two_months_still_answers(demo_city: Municipality) -> None:
    Closure.objects.create(
        municipality=demo_city,
        kind="other",
        first_day=TODAY,
        last_day=TODAY + dt.timedelta(days=60),
        reason="改修",
    )
    html = _solved_page()
    assert "計算済みの計画" in html
