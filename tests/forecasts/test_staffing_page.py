"""The staffing plan page: the demo city's weekly counter plan from live data."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from django.test import Client

from madoguchi.forecasts.selectors import municipality_forecast, municipality_work
from madoguchi.forecasts.staffing_plan import (
    StaffingInput,
    StaffingSettings,
    planned_hours,
    solve_staffing_plan,
    staffing_input,
)
from madoguchi.offices.models import Municipality, SiteKind
from madoguchi.planning.demand import DemandOptions
from madoguchi.staff.models import StaffUser
from tests import personas
from tests.conftest import login_staff

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)
SHORT = StaffingSettings(weeks=22)  # the temporary counter closes after week 17 of 22


DEMO_CITY = personas.DemoCity(residents=150, seed=3)


@pytest.fixture(autouse=True)
def _temporary_counter_open(demo_city: Municipality) -> None:
    """These tests mean the demo's temporary counter open now and closing inside the horizon."""
    personas.open_demo_temporary_counter(demo_city, today=TODAY)


def _client(username: str) -> Client:
    client = Client()
    login_staff(client, StaffUser.objects.get(username=username))
    return client


def _index(staffing: StaffingInput, kind: str) -> int:
    return next(i for i, site in enumerate(staffing.sites) if site.kind == kind)


def test_the_demo_citys_plan_from_live_data(demo_city: Municipality) -> None:
    """Workload = all the counter work at the municipality's minutes; post offices take only
    certificate work; the temporary counter gets no work and no sessions once closed; the plan is
    solved."""
    staffing = staffing_input(demo_city, today=TODAY, settings=SHORT)
    work = municipality_work(demo_city, start=dt.date(2026, 11, 1), months=7, take_up=0.9)
    first = work.week_starts.index(dt.date(2026, 11, 30))
    weeks = slice(first, first + SHORT.weeks)
    load = work.workload
    expected = sum(load.hours(kind)[weeks].sum() for kind in load.counter_kinds)
    # more than the renewals alone: hand-overs, applications, PIN resets and other visits
    forecast = municipality_forecast(
        demo_city,
        start=dt.date(2026, 11, 1),
        months=6,
        by="week",
        options=DemandOptions(take_up=0.9),
    )
    renewals = forecast.cert_renewals[forecast.labels.index("2026-11-30") :][: SHORT.weeks]
    assert expected > renewals.sum() * 10 / 60 > 0
    assert staffing.problem.demand_hours.sum() == pytest.approx(expected)

    post = _index(staffing, SiteKind.POST_OFFICE)
    temporary = _index(staffing, SiteKind.TEMPORARY)
    main = _index(staffing, SiteKind.MAIN_OFFICE)
    assert staffing.card_hours[:, post].sum() == 0
    assert staffing.cert_hours[:, post].sum() > 0
    closed = ~staffing.problem.open_weeks[:, temporary]
    assert closed.any() and not closed[0]
    assert staffing.problem.demand_hours[closed, temporary].sum() == 0
    assert all(kind.end_hour <= 20 for kind in staffing.problem.session_kinds)

    outcome = solve_staffing_plan(staffing)
    plan = outcome.plan
    assert plan is not None and outcome.error is None
    assert plan.status in ("optimal", "time_limit")
    assert plan.counter_sessions[:, main, :].sum() > 0
    assert plan.counter_sessions[closed, temporary, :].sum() == 0
    # the post office's sessions serve exactly the certificate work it is given, nothing else
    # (what is left at the horizon's end is carried over, not served elsewhere)
    assert plan.served_hours[:, post].sum() + plan.backlog_hours[-1, post] == pytest.approx(
        staffing.cert_hours[:, post].sum()
    )
    # only the temporary site's work may move (the plan opens it only when worth its fixed
    # costs); the post office's never does, and a closed temporary site gets no sessions
    assert plan.spilled_hours[:, post].sum() == 0
    if not plan.temporary_used[temporary]:
        assert plan.counter_sessions[:, temporary, :].sum() == 0
        others = [s for s in range(len(staffing.sites)) if s != temporary]
        assert plan.spilled_hours[:, others].sum() == 0

    flooded = dataclasses.replace(
        staffing,
        problem=dataclasses.replace(
            staffing.problem, demand_hours=staffing.problem.demand_hours + 10_000.0
        ),
    )
    impossible = solve_staffing_plan(flooded)
    assert impossible.plan is None and impossible.error is not None
    # lead time 2 weeks: the third week (14 December) is the first that must be served
    assert "「デモ市役所 本庁舎」は12月14日の週までに" in impossible.error


def test_the_staffing_page_shows_the_plan_to_managers_only(demo_city: Municipality) -> None:
    manager = _client("demo-manager")
    planning = manager.get("/staff/planning/").content.decode()
    assert 'href="/staff/planning/staffing/"' in planning
    choices = {
        "weeks": 6,
        "take_up": 90,
        "lead_time_weeks": 2,
        "weekday_cost": "1",
        "evening_cost": "1.25",
        "weekend_cost": "1.5",
    }
    before = manager.get("/staff/planning/staffing/", choices).content.decode()
    assert "まだ計算されていません" in before and "<svg" not in before
    solved = manager.post("/staff/planning/staffing/solve/", choices)
    assert solved.status_code == 302 and solved["Location"].startswith("/staff/planning/staffing/?")
    response = manager.get(solved["Location"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "窓口の配置計画" in html
    assert "最適" in html or "時間切れ" in html
    assert html.count("<svg") == 1
    assert "デモ市役所 本庁舎" in html and 'scope="row"' in html

    bad = manager.get("/staff/planning/staffing/", {"weeks": 99}).content.decode()
    assert "入力を確認してください" in bad and "<svg" not in bad

    assert _client("demo-contractor").get("/staff/planning/staffing/").status_code == 403


def test_the_demo_plan_keeps_serving_to_its_last_week_and_holds_steady(
    demo_city: Municipality,
) -> None:
    """No end-of-horizon collapse (no site closes in the last weeks while the carry-over grows)
    and week-to-week swings bounded by the steadiness price; without it (the negative control)
    the same plan swings more."""
    staffing = staffing_input(demo_city, today=TODAY, settings=SHORT)
    plan = solve_staffing_plan(staffing).plan
    assert plan is not None
    kinds = staffing.problem.session_kinds
    hours = planned_hours(plan, kinds)
    open_weeks = staffing.problem.open_weeks
    assert open_weeks is not None
    for s in range(staffing.problem.sites):
        weeks_open = np.flatnonzero(open_weeks[:, s])
        last = weeks_open[-2:]
        carry = plan.backlog_hours[last, s]
        if carry[-1] > plan.backlog_hours[weeks_open[:-2], s].max(initial=0.0) + 1e-6:
            assert (hours[last, s] > 0).all(), staffing.sites[s].name
    assert plan.backlog_hours[-1].sum() <= plan.backlog_hours[:-1].sum(axis=1).max() + 1e-6
    steady_swing = np.abs(np.diff(hours, axis=0)).sum()
    free = solve_staffing_plan(
        staffing_input(demo_city, today=TODAY, settings=dataclasses.replace(SHORT, change_cost=0.0))
    ).plan
    assert free is not None
    free_swing = np.abs(np.diff(planned_hours(free, kinds), axis=0)).sum()
    assert steady_swing < free_swing


def test_the_plans_input_reads_the_sites_and_the_policy_once(demo_city: Municipality) -> None:
    """The staffing problem reads all its sites' calendars in one statement a table and their
    active terminals and counters in one count each (it took five statements a site), and the
    planning policy and the register's newest snapshots once (its counter work read the policy
    again, and the snapshot twice): 35 statements on the demo city, now 12. The problem is the
    one each site read alone gave (compared on the old code)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as statements:
        staffing = staffing_input(demo_city, today=TODAY, settings=SHORT)
    reads = [q["sql"] for q in statements.captured_queries]
    assert len(staffing.sites) > 2  # the control: several sites, and the temporary counter
    for table in (
        "offices_openingsession",
        "offices_closure",
        "offices_specialopening",
        "offices_terminal",
        "offices_counter",
        "forecasts_planningpolicy",
        "forecasts_registersnapshot",  # one register for the demand and the work (was 3 reads)
    ):
        assert sum(f'FROM "{table}"' in sql for sql in reads) == 1, (table, reads)
    # all told (the cubes' counts aside: read only when the process keeps no such cube)
    uncached = [sql for sql in reads if 'FROM "forecasts_registerexpirycount"' not in sql]
    assert len(uncached) == 12, uncached
