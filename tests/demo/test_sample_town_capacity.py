"""見本町, the demo's second municipality, is sized for its wave the way デモ市 is: at its size in
`madoguchi demo --municipalities 2` (a quarter of the default 100,000 residents) its regular
hours fall short in the wave's busy months and not before it, its temporary counter opens over
exactly the months they fall short (`temporary_counter_window`), and with that counter and the
weekend sessions nothing carries over. And every text it stores is in every offered language
(decision 0029), as tests/demo/test_demo_names.py checks of デモ市: both read one build of the
town (`DEMO_CITY`, kept for the module's tests)."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.core.dates import month_start
from madoguchi.demo.city import DEMO_CITIES, temporary_counter_window
from madoguchi.forecasts.models import RegisterRecord, TemporaryCounterOption, policy_for
from madoguchi.forecasts.selectors import backlog_view, capacity_plan
from madoguchi.offices.models import Municipality, SessionKind, Site, SiteKind
from madoguchi.planning.backlog import propose_openings
from tests import personas
from tests.demo.test_demo_names import _every_text_has_every_language
from tests.frozen_clock import DEMO_DAY

pytestmark = pytest.mark.django_db

START = DEMO_DAY.replace(day=1)
MONTHS = 15
PEAK_MONTH = "2027-05"
DEMO_CITY = personas.DemoCity(residents=100_000, seed=1, city=1)
"""見本町 alone, built as `madoguchi demo --municipalities 2` builds it (its share of the
100,000 residents), once for the module's tests (tests/personas.py keeps its rows)."""


def test_the_sample_town_falls_short_in_its_busy_months_until_its_temporary_counter_counts(
    demo_city: Municipality,
) -> None:
    town = DEMO_CITIES[1]
    assert town.name == "見本町（架空）" and town.build_temporary is not None
    municipality = demo_city
    assert municipality.code == town.code
    assert RegisterRecord.objects.filter(municipality=municipality).count() == 25_000
    take_up = policy_for(municipality.pk).take_up_percent / 100
    regular = capacity_plan(
        municipality, start=START, months=MONTHS, take_up=take_up, regular_only=True
    )
    counted = capacity_plan(municipality, start=START, months=MONTHS, take_up=take_up)
    labels = regular.labels

    peak = labels.index(PEAK_MONTH)
    assert regular.demand_hours[peak] > 1.1 * regular.capacity_hours[peak]
    assert regular.backlog_hours[peak] > 0
    for month in ("2026-12", "2027-01"):  # before the wave builds, the regular hours are enough
        index = labels.index(month)
        assert regular.demand_hours[index] <= regular.capacity_hours[index]
        assert regular.backlog_hours[index] == 0

    # its temporary counter: evenings are not its kind here, but afternoons and Sundays
    temporary = Site.objects.get(municipality=municipality, kind=SiteKind.TEMPORARY)
    assert set(temporary.opening_sessions.values_list("kind", flat=True)) == {
        SessionKind.WEEKDAY,
        SessionKind.WEEKEND,
    }
    short = [i for i, hours in enumerate(regular.backlog_hours) if hours > 0]
    assert temporary.open_from == month_start(START, short[0])
    assert temporary.open_until == month_start(START, short[-1] + 1) - dt.timedelta(days=1)
    assert temporary.open_from <= dt.date(2027, 5, 1) < temporary.open_until
    option = TemporaryCounterOption.objects.get(site=temporary)
    assert (option.opens_on, option.closes_on) == (temporary.open_from, temporary.open_until)
    assert temporary_counter_window(municipality, today=DEMO_DAY) == (
        temporary.open_from,
        temporary.open_until,
    )
    # counted with it (and the Saturday mornings), nothing is left over in any month
    assert counted.backlog_hours.max() == 0
    assert regular.backlog_hours.max() > 0

    # before it opens, its card pick-up seats fall behind the arrivals its counts imply: the
    # backlog warning speaks, and its standby counter is what resolves it
    view = backlog_view(municipality, today=DEMO_DAY)
    result = propose_openings(view.data, view.options, temporary=view.temporary, target_days=14)
    assert result.before.first_breach(14) is not None
    assert result.resolved
    assert [t.name for t in result.opened] == [town.standby_name]
    standby = TemporaryCounterOption.objects.get(name=town.standby_name)
    assert standby.site is None and standby.closes_on < temporary.open_from


def test_every_text_the_second_demo_municipality_stores_has_every_language(
    demo_city: Municipality,
) -> None:
    assert Municipality.objects.get() == demo_city  # the town alone
    _every_text_has_every_language()
