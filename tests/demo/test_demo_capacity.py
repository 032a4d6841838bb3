"""The demo city is sized for its wave: on its own forecast (the default 100,000 residents) the
regular hours fall short in the peak months, and the temporary counter — open over the months
they fall short, derived from that forecast — with its weekend sessions covers them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.test import Client

from madoguchi.core.dates import month_start
from madoguchi.demo.city import WINDOW_MONTHS, temporary_counter_window
from madoguchi.forecasts.models import TemporaryCounterOption, policy_for
from madoguchi.forecasts.selectors import CapacityPlan, capacity_plan
from madoguchi.offices.models import Municipality, SessionKind, Site, SiteKind
from madoguchi.staff.models import StaffUser
from tests import personas
from tests.conftest import login_staff
from tests.frozen_clock import DEMO_DAY

pytestmark = pytest.mark.django_db

DEMO_CITY = personas.DemoCity(residents=100_000, seed=1)
"""The demo as `madoguchi demo` loads it (its default size and seed)."""

START = DEMO_DAY.replace(day=1)
MONTHS = 15
PEAK_MONTH = "2027-05"
"""In the wave's peak (its certificate renewals are within a few per cent of each other from May to
July 2027), and Golden Week's month, the shortest in working days."""


def _plans(city: Municipality) -> tuple[CapacityPlan, CapacityPlan]:
    take_up = policy_for(city.pk).take_up_percent / 100
    regular = capacity_plan(city, start=START, months=MONTHS, take_up=take_up, regular_only=True)
    counted = capacity_plan(city, start=START, months=MONTHS, take_up=take_up)
    return regular, counted


def test_regular_hours_fall_short_in_the_peak_months_and_not_before_the_wave(
    demo_city: Municipality,
) -> None:
    regular, _ = _plans(demo_city)
    labels = regular.labels
    demand = regular.demand_hours
    capacity = regular.capacity_hours
    backlog = regular.backlog_hours
    peak = labels.index(PEAK_MONTH)
    busiest = int(np.argmax(demand))
    assert demand[peak] > capacity[peak] and backlog[peak] > 0
    assert demand[busiest] > capacity[busiest] and backlog[busiest] > 0
    # short for real: a month's demand the regular hours miss by more than a tenth
    assert demand[peak] > 1.1 * capacity[peak]
    # before the wave builds (December–January), the regular hours are enough
    for month in ("2026-12", "2027-01"):
        index = labels.index(month)
        assert demand[index] <= capacity[index] and backlog[index] == 0


def test_with_the_temporary_counter_and_weekend_sessions_nothing_is_left_over(
    demo_city: Municipality,
) -> None:
    regular, counted = _plans(demo_city)
    assert counted.backlog_hours.max() == 0
    assert (counted.capacity_hours >= counted.demand_hours).all()
    # the difference is the temporary counter: its weekend and evening sessions
    temporary = Site.objects.get(municipality=demo_city, kind=SiteKind.TEMPORARY)
    kinds = set(temporary.opening_sessions.values_list("kind", flat=True))
    assert kinds == {SessionKind.WEEKEND, SessionKind.EVENING}
    assert regular.backlog_hours.max() > 0


def test_the_temporary_counter_opens_over_the_months_the_regular_hours_fall_short(
    demo_city: Municipality,
) -> None:
    regular, _ = _plans(demo_city)
    temporary = Site.objects.get(municipality=demo_city, kind=SiteKind.TEMPORARY)
    short = [i for i, hours in enumerate(regular.backlog_hours) if hours > 0]
    assert temporary.open_from == month_start(START, short[0])
    assert temporary.open_until == month_start(START, short[-1] + 1) - dt.timedelta(days=1)
    assert temporary.open_from <= dt.date(2027, 5, 1) < temporary.open_until
    option = TemporaryCounterOption.objects.get(site=temporary)
    assert (option.opens_on, option.closes_on) == (temporary.open_from, temporary.open_until)
    assert temporary_counter_window(demo_city, today=DEMO_DAY) == (
        temporary.open_from,
        temporary.open_until,
    )


def test_without_a_shortfall_the_window_is_the_busiest_month_and_one_either_side(
    demo_city: Municipality,
) -> None:
    # every permanent site's weekday counters tripled: the regular hours are enough all along
    for site in Site.objects.filter(municipality=demo_city).exclude(kind=SiteKind.TEMPORARY):
        for number in range(2, 4):
            site.terminals.get_or_create(name=f"追加端末{number}")
            site.counters.get_or_create(name=f"追加窓口{number}")
        site.opening_sessions.update(counters_open=3)
    opens_on, closes_on = temporary_counter_window(demo_city, today=DEMO_DAY)
    take_up = policy_for(demo_city.pk).take_up_percent / 100
    plan = capacity_plan(
        demo_city, start=START, months=WINDOW_MONTHS, take_up=take_up, regular_only=True
    )
    assert plan.backlog_hours.max() == 0
    busiest = int(np.argmax(plan.demand_hours))
    assert opens_on == month_start(START, max(0, busiest - 1))
    assert closes_on == month_start(START, busiest + 2) - dt.timedelta(days=1)


def test_the_capacity_page_shows_the_regular_hours_falling_short(
    demo_city: Municipality,
) -> None:
    client = Client()
    login_staff(client, StaffUser.objects.get(username="demo-manager"))
    html = client.get("/staff/planning/", {"months": 12, "take_up": 90}).content.decode()
    assert "通常の体制での持ち越し（時間）" in html
    assert "通常の体制（臨時窓口・土日祝を除く）" in html  # the chart's series
    regular, _ = _plans(demo_city)
    row = html[html.index(f'<th scope="row">{PEAK_MONTH}</th>') :]
    row = row[: row.index("</tr>")]
    cells = [cell.split("</td>")[0] for cell in row.split("<td>")[1:]]
    peak = regular.labels.index(PEAK_MONTH)
    # 持ち越し under the current setup is 0; under the regular hours it is the backlog
    assert cells[4] == "0"
    assert cells[7] == f"{regular.backlog_hours[peak]:,.0f}"
    assert regular.backlog_hours[peak] > 0
