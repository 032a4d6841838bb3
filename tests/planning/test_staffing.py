"""The weekly staffing MILP on instances small enough to solve by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from madoguchi.planning import staffing
from madoguchi.planning.staffing import (
    BackOfficeWork,
    SessionKind,
    StaffingError,
    StaffingInfeasibleError,
    StaffingProblem,
    default_session_kinds,
    solve_staffing,
    workload_hours,
)

# One weekday session is 8 h (cost 1/h), an evening 1 h (1.5/h), a weekend morning 4 h (2/h).
KINDS = (
    SessionKind("weekday", 8, 16, 5, 1.0),
    SessionKind("evening", 18, 19, 2, 1.5),
    SessionKind("weekend", 9, 13, 1, 2.0),
)


def _problem(demand: list[list[float]], **changes: object) -> StaffingProblem:
    array = np.asarray(demand, dtype=np.float64)
    problem = StaffingProblem(
        site_names=tuple(f"site{i}" for i in range(array.shape[1])),
        demand_hours=array,
        max_counters=np.full(array.shape[1], 10),
        session_kinds=KINDS,
        lead_time_weeks=0.0,
        backlog_cost_per_hour=0.0,
        spill_cost_per_hour=0.0,
    )
    return dataclasses.replace(problem, **changes)


def test_cheapest_mix_of_sessions_covers_one_week_by_hand() -> None:
    # 83 h of work: 10 weekday sessions (80 h, cost 80) + 3 evenings (3 h, 4.5) = 84.5 is the
    # cheapest; 11 weekdays cost 88, 10 weekdays + 1 weekend cost 88.
    plan = solve_staffing(_problem([[83.0]]))
    assert plan.status == "optimal"
    assert plan.cost == pytest.approx(84.5)
    assert plan.counter_sessions[0, 0].tolist() == [10, 3, 0]
    assert plan.counters_open[0, 0, 0] == pytest.approx(2.0)  # 2 counters each weekday


def test_lead_time_lets_work_wait_one_week() -> None:
    # Demand 20 h, 4 h, 0 h with lead time 0: 2 weekday sessions + 4 evenings (20 h, cost 22)
    # then 4 evenings (cost 6) = 28. With one week allowed, work may wait a week: the 24 h fit
    # 3 weekday sessions in total, cost 24.
    demand = [[20.0], [4.0], [0.0]]
    strict = solve_staffing(_problem(demand))
    assert strict.cost == pytest.approx(28.0)
    relaxed = solve_staffing(_problem(demand, lead_time_weeks=1.0))
    assert relaxed.cost == pytest.approx(24.0)
    assert relaxed.backlog_hours[-1, 0] == pytest.approx(0.0)
    assert relaxed.counter_sessions[:, 0, 0].sum() == 3


def test_counter_limit_forces_dearer_sessions() -> None:
    # At most 1 counter: 5 weekday sessions give 40 h; the other 5 h need 1 evening (1 h, 1.5)
    # and the one weekend morning (4 h, 8): 40 + 1.5 + 8 = 49.5.
    plan = solve_staffing(_problem([[45.0]], max_counters=np.array([1])))
    assert plan.cost == pytest.approx(49.5)
    assert plan.counter_sessions[0, 0].tolist() == [5, 1, 1]


def test_temporary_site_opens_only_when_needed_and_pays_its_fixed_cost() -> None:
    limits = {
        "max_counters": np.array([1, 3]),
        "temporary_fixed_cost": np.array([np.nan, 100.0]),
        "spill": ((0, 1),),
        "demand_hours": np.array([[30.0, 0.0]]),
    }
    quiet = solve_staffing(_problem([[30.0, 0.0]], **limits))
    assert not quiet.temporary_used[1]
    assert quiet.cost == pytest.approx(32.0)  # 4 weekdays at the main site
    busy = solve_staffing(
        _problem([[80.0, 0.0]], **{**limits, "demand_hours": np.array([[80.0, 0.0]])})
    )
    assert busy.temporary_used[1]
    # 40 (5 weekdays) + 2 evenings + 1 weekend at the main site hold 46 h; the remaining 34 h
    # at the temporary site need 5 weekdays (40) — or 4 weekdays + 2 evenings... the solver's
    # answer must beat doing it all there and include the fixed cost.
    assert busy.cost >= 100.0 + 80.0
    assert busy.spilled_hours[0, 0] > 0
    assert busy.served_hours.sum() == pytest.approx(80.0)


def test_closed_weeks_get_no_counters() -> None:
    open_weeks = np.array([[True], [False], [True]])
    plan = solve_staffing(
        _problem([[8.0], [0.0], [8.0]], open_weeks=open_weeks, lead_time_weeks=0.0)
    )
    assert plan.counter_sessions[1].sum() == 0
    assert plan.counter_sessions[[0, 2], 0, 0].tolist() == [1, 1]


def test_impossible_demand_names_the_site_and_week() -> None:
    problem = _problem([[10.0], [500.0]], max_counters=np.array([2]), site_names=("北口",))
    with pytest.raises(StaffingInfeasibleError, match=r"'北口'.*week 2"):
        solve_staffing(problem)


def test_evening_sessions_cannot_run_past_20_00() -> None:
    with pytest.raises(StaffingError, match="20"):
        SessionKind("late", 18, 21, 1, 1.5)


def test_malformed_problem_is_rejected() -> None:
    with pytest.raises(StaffingError, match="max_counters"):
        solve_staffing(_problem([[1.0, 2.0]], max_counters=np.array([1])))
    with pytest.raises(StaffingError, match="spill"):
        solve_staffing(_problem([[1.0, 2.0]], spill=((0, 0),)))


def _a_year_of_twelve_sites() -> StaffingProblem:
    rng = np.random.default_rng(4)
    kinds = default_session_kinds()
    weeks, sites = 52, 12
    capacity = 6 * sum(k.hours_per_week for k in kinds)
    # A forecast is smooth: a seasonal wave per site, a little noise.
    wave = 1 + 0.3 * np.sin(2 * np.pi * np.arange(weeks) / 52)
    demand = capacity * np.outer(wave, rng.uniform(0.3, 0.6, sites))
    demand *= rng.uniform(0.95, 1.05, (weeks, sites))
    return StaffingProblem(
        site_names=tuple(str(i) for i in range(sites)),
        demand_hours=demand,
        max_counters=np.full(sites, 6),
        session_kinds=kinds,
        spill=tuple((i, (i + 1) % sites) for i in range(sites)),
        lead_time_weeks=1.0,
    )


def test_gap_target_is_respected_on_a_year_of_twelve_sites() -> None:
    problem = _a_year_of_twelve_sites()
    demand = problem.demand_hours
    plan = solve_staffing(problem, mip_rel_gap=0.01)  # the tests' limit: never the clock
    assert plan.status == "optimal"
    assert plan.mip_gap <= 0.01
    relaxed = solve_staffing(problem, relax=True)
    assert relaxed.cost <= plan.cost
    assert plan.cost <= relaxed.cost * 1.05
    assert plan.dual_bound <= plan.cost
    assert (plan.counter_sessions == np.round(plan.counter_sessions)).all()
    assert plan.served_hours.sum() + plan.backlog_hours[-1].sum() == pytest.approx(demand.sum())


def test_workload_hours_weights_visits_by_service_time() -> None:
    visits = np.array([[[60.0, 30.0]]])  # 60 card pickups, 30 certificate renewals
    hours = workload_hours(visits, [17.0, 10.0], productive_share=1.0)
    assert hours[0, 0] == pytest.approx((60 * 17 + 30 * 10) / 60)
    with pytest.raises(StaffingError):
        workload_hours(visits, [17.0])


def test_a_site_never_gets_a_session_kind_it_cannot_hold() -> None:
    # The second site may only open at weekends: although weekday counter-hours are cheaper,
    # none may be planned there.
    kinds = default_session_kinds()
    names = [k.name for k in kinds]
    only_weekend = [k.days_per_week if k.name == "weekend" else 0.0 for k in kinds]
    problem = StaffingProblem(
        site_names=("本庁舎", "臨時窓口"),
        demand_hours=np.full((4, 2), 12.0),
        max_counters=np.array([4, 2]),
        session_kinds=kinds,
        site_kind_days=np.array([[k.days_per_week for k in kinds], only_weekend]),
    )
    plan = solve_staffing(problem)
    weekend = names.index("weekend")
    assert plan.counter_sessions[:, 1, weekend].sum() > 0
    assert plan.counter_sessions[:, 1, [i for i in range(len(kinds)) if i != weekend]].sum() == 0
    # The control: without the restriction the cheaper weekday sessions are used there.
    free = solve_staffing(dataclasses.replace(problem, site_kind_days=None))
    assert free.counter_sessions[:, 1, names.index("weekday")].sum() > 0


def _steady_two_sites(**changes: object) -> StaffingProblem:
    # 12 weeks of 60 h and 30 h of work a week, a 2-week lead time: with free carry-over the
    # cheapest plan ends by leaving the last two weeks' work waiting.
    weeks = 12
    return _problem(
        [[60.0, 30.0]] * weeks, lead_time_weeks=2.0, max_counters=np.array([4, 2]), **changes
    )


def test_without_a_carry_over_price_the_plan_collapses_at_the_horizon() -> None:
    # The negative control: carry-over free, as before.
    plan = solve_staffing(_steady_two_sites(carry_over_cost_per_hour=0.0))
    hours = plan.counter_sessions @ np.array([k.session_hours for k in KINDS])
    assert (hours[-2:] == 0).any()
    assert plan.backlog_hours[-1].sum() > plan.backlog_hours[-4].sum()


def test_no_site_drops_to_zero_at_the_horizon_while_carry_over_grows() -> None:
    plan = solve_staffing(_steady_two_sites())
    hours = plan.counter_sessions @ np.array([k.session_hours for k in KINDS])
    assert (hours > 0).all()  # every site opens every week, the last ones included
    # the carry-over does not grow at the end: the last week leaves no more than the plan's
    # middle weeks do
    assert plan.backlog_hours[-1].sum() <= plan.backlog_hours[2:-2].sum(axis=1).max() + 1e-6
    served = plan.served_hours.sum() + plan.backlog_hours[-1].sum()
    assert served == pytest.approx(90.0 * 12)


def _swinging(**changes: object) -> StaffingProblem:
    # Work alternates 16 h, 64 h, 16 h, … at one site, each week served in its own week.
    demand = [[16.0 if week % 2 == 0 else 64.0] for week in range(10)]
    return _problem(demand, lead_time_weeks=1.0, **changes)


def test_a_change_price_bounds_week_to_week_swings() -> None:
    kinds_hours = np.array([k.session_hours for k in KINDS])
    free = solve_staffing(_swinging(carry_over_cost_per_hour=0.0))
    free_swing = np.abs(np.diff(free.counter_sessions @ kinds_hours, axis=0)).max()
    steady = solve_staffing(_swinging(carry_over_cost_per_hour=0.0, change_cost_per_hour=2.0))
    steady_swing = np.abs(np.diff(steady.counter_sessions @ kinds_hours, axis=0)).max()
    assert free_swing >= 40  # the negative control follows the demand up and down
    assert steady_swing <= 8  # one weekday session at most
    assert steady.backlog_hours.max() <= 64.0 + 1e-6  # within the lead time, as before


def test_negative_change_or_carry_over_prices_are_refused() -> None:
    with pytest.raises(StaffingError, match="change and carry-over"):
        solve_staffing(_swinging(change_cost_per_hour=-1.0))
    with pytest.raises(StaffingError, match="change and carry-over"):
        solve_staffing(_swinging(carry_over_cost_per_hour=-1.0))


def test_a_total_staff_hours_cap_binds_across_sites() -> None:
    # Two sites with 30 h of work a week each. Uncapped, each opens 4 weekday sessions (32 h,
    # cost 32); capped at 60 h for both, each must hit 30 h exactly with dearer sessions: 3
    # weekday + 6 evening sessions (24 h + 6 h, cost 24 + 9 = 33).
    demand = [[30.0, 30.0]] * 3
    free = solve_staffing(_problem(demand))
    kinds_hours = np.array([k.session_hours for k in KINDS])
    assert (free.counter_sessions @ kinds_hours).sum(axis=1).tolist() == [64.0] * 3
    capped = solve_staffing(_problem(demand, total_staff_hours_per_week=60.0))
    assert (capped.counter_sessions @ kinds_hours).sum(axis=1).max() <= 60.0 + 1e-9
    assert capped.cost == pytest.approx(3 * 66.0)
    assert free.cost == pytest.approx(3 * 64.0)


def test_a_total_staff_cap_too_low_is_named() -> None:
    with pytest.raises(StaffingInfeasibleError, match=r"all sites together .* by week 1 within 59"):
        solve_staffing(_problem([[30.0, 30.0]] * 3, total_staff_hours_per_week=59.0))
    with pytest.raises(StaffingError, match="total_staff_hours_per_week"):
        solve_staffing(_problem([[30.0, 30.0]], total_staff_hours_per_week=-1.0))


def test_back_office_hours_are_costed_and_leave_the_counters_as_they_were_without_a_cap() -> None:
    demand = [[30.0, 30.0]] * 3
    back_office = np.array([[5.0, 2.0]] * 3)
    free = solve_staffing(_problem(demand))
    with_office = solve_staffing(_problem(demand, back_office_hours=back_office))
    assert np.array_equal(with_office.counter_sessions, free.counter_sessions)
    # at the cheapest session kind's hourly cost (the weekday's, 1.0) unless a price is given
    assert with_office.cost == pytest.approx(free.cost + 21.0)
    assert with_office.back_office_cost == pytest.approx(21.0)
    priced = solve_staffing(
        _problem(demand, back_office_hours=back_office, back_office_cost_per_hour=3.0)
    )
    assert priced.cost == pytest.approx(free.cost + 63.0)
    assert priced.back_office_hours is not None
    assert priced.back_office_hours.tolist() == back_office.tolist()


def test_back_office_hours_count_against_the_staff_limits() -> None:
    # Capped at 71 h for both sites, 64 counter-hours fit beside 7 back-office hours; the counters
    # must then make do with 64 h: still 4 weekday sessions each (32 h ≥ 30 h).
    demand = [[30.0, 30.0]] * 3
    kinds_hours = np.array([k.session_hours for k in KINDS])
    back_office = np.array([[5.0, 2.0]] * 3)
    fits = solve_staffing(
        _problem(demand, back_office_hours=back_office, total_staff_hours_per_week=71.0)
    )
    counter = (fits.counter_sessions @ kinds_hours).sum(axis=1)
    assert (counter + back_office.sum(axis=1)).max() <= 71.0 + 1e-9
    # at 67 h the counters have 60 h: exactly the work, with dearer evening sessions
    tight = solve_staffing(
        _problem(demand, back_office_hours=back_office, total_staff_hours_per_week=67.0)
    )
    assert (tight.counter_sessions @ kinds_hours).sum(axis=1).max() <= 60.0 + 1e-9
    assert tight.cost == pytest.approx(3 * 66.0 + 21.0)
    # without the back office 67 h would leave room; with it, 66 h is too little
    with pytest.raises(StaffingInfeasibleError, match="all sites together"):
        solve_staffing(
            _problem(demand, back_office_hours=back_office, total_staff_hours_per_week=66.0)
        )
    solve_staffing(_problem(demand, total_staff_hours_per_week=66.0))
    # per site: site 0 may staff 34 h, 5 of them back office → 29 h of counters < 30 h of work
    with pytest.raises(StaffingInfeasibleError, match="site0"):
        solve_staffing(
            _problem(
                demand,
                back_office_hours=back_office,
                staff_hours_per_week=np.array([34.0, 100.0]),
            )
        )


def test_malformed_back_office_hours_are_refused() -> None:
    with pytest.raises(StaffingError, match="back_office_hours"):
        solve_staffing(_problem([[1.0]], back_office_hours=np.array([[-1.0]])))
    with pytest.raises(StaffingError, match="back_office_hours"):
        solve_staffing(_problem([[1.0]], back_office_hours=np.array([1.0])))


SPIKE = np.array([[0.0], [30.0], [0.0], [0.0], [0.0]])
"""30 h of set-up for a delivery spike in week 2 of 5; the counters need 8 h every week."""


def _weeks_of(done: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in done[:, 0]]


def test_back_office_work_that_may_wait_is_spread_within_its_deadline_under_a_staff_cap() -> None:
    # 20 staff hours a week, 8 of them at the counter: 12 h of back office a week at most. Done
    # in its week the spike needs 30 h; allowed one week's wait, 24 h (weeks 2–3); two weeks'
    # wait lets it finish in week 4 — and not a week later.
    demand = [[8.0]] * 5
    capped = {"total_staff_hours_per_week": 20.0}
    with pytest.raises(StaffingInfeasibleError):
        solve_staffing(_problem(demand, back_office_hours=SPIKE, **capped))
    with pytest.raises(StaffingInfeasibleError):
        work = BackOfficeWork("setup", SPIKE, deadline_days=7)
        solve_staffing(_problem(demand, back_office_work=(work,), **capped))
    plan = solve_staffing(
        _problem(demand, back_office_work=(BackOfficeWork("setup", SPIKE, 14),), **capped)
    )
    assert plan.back_office_hours is not None and plan.back_office_waiting is not None
    done = plan.back_office_hours
    weeks = _weeks_of(done)
    assert weeks[0] == weeks[4] == 0.0  # not before the delivery, nothing after the deadline
    assert sum(weeks) == pytest.approx(30.0) and max(weeks) <= 12.0 + 1e-6
    assert plan.back_office_done["setup"].tolist() == done.tolist()
    counter = plan.counter_sessions @ np.array([k.session_hours for k in KINDS])
    assert (counter[:, 0] + done[:, 0]).max() <= 20.0 + 1e-9
    waiting = np.cumsum(SPIKE[:, 0]) - np.cumsum(done[:, 0])
    assert plan.back_office_waiting[:, 0] == pytest.approx(waiting, abs=1e-6)
    assert waiting[3] == pytest.approx(0.0, abs=1e-6)  # the week-2 spike done by week 4
    assert plan.back_office_cost == pytest.approx(30.0)  # every hour once, at the weekday rate


def test_a_deadline_in_days_lets_the_part_of_a_week_past_its_whole_weeks_wait() -> None:
    # The spike of 30 h arrives in week 2; 12 h of back office a week at most. A week's
    # deliveries count as spread over its 7 days, so a deadline of 7 + d days lets d/7 of the
    # spike wait past week 3. 8 days: 30/7 = 4.3 h may wait, weeks 2–3 must do 25.7 h > 24 h —
    # no plan. 9 days: 8.6 h may wait, 21.4 h ≤ 24 h — a plan, with at most 8.6 h done in
    # week 4 and nothing after. Counted in whole weeks, 8 and 9 days would be the same week.
    demand = [[8.0]] * 5
    capped = {"total_staff_hours_per_week": 20.0}
    with pytest.raises(StaffingInfeasibleError):
        work = BackOfficeWork("setup", SPIKE, deadline_days=8)
        solve_staffing(_problem(demand, back_office_work=(work,), **capped))
    plan = solve_staffing(
        _problem(
            demand, back_office_work=(BackOfficeWork("setup", SPIKE, deadline_days=9),), **capped
        )
    )
    assert plan.back_office_hours is not None and plan.back_office_waiting is not None
    weeks = _weeks_of(plan.back_office_hours)
    assert sum(weeks) == pytest.approx(30.0)
    assert weeks[1] + weeks[2] >= 30.0 * 5 / 7 - 1e-6
    assert 0.0 < weeks[3] <= 30.0 * 2 / 7 + 1e-6 and weeks[4] == 0.0
    assert plan.back_office_waiting[2, 0] <= 30.0 * 2 / 7 + 1e-6


def test_what_may_wait_is_what_arose_in_the_last_deadline_days() -> None:
    hours = np.array([[7.0], [14.0], [0.0], [0.0]])
    assert BackOfficeWork("setup", hours, deadline_days=0).may_wait()[:, 0].tolist() == [
        0.0,
        0.0,
        0.0,
        0.0,
    ]
    assert BackOfficeWork("setup", hours, deadline_days=3).may_wait()[:, 0] == pytest.approx(
        [3.0, 6.0, 0.0, 0.0]
    )
    assert BackOfficeWork("setup", hours, deadline_days=7).may_wait()[:, 0] == pytest.approx(
        [7.0, 14.0, 0.0, 0.0]
    )
    assert BackOfficeWork("setup", hours, deadline_days=10).may_wait()[:, 0] == pytest.approx(
        [7.0, 17.0, 6.0, 0.0]
    )
    assert BackOfficeWork("setup", hours, deadline_days=14).may_wait()[:, 0] == pytest.approx(
        [7.0, 21.0, 14.0, 0.0]
    )


def test_a_change_price_smooths_a_delivery_spike_the_deadline_lets_wait() -> None:
    # No cap; a price on each hour a site's staff hours move. Done in its week the spike moves
    # them by +30 and −30; spread evenly over the three weeks its deadline allows, by +10 and −10.
    demand = [[8.0]] * 5
    in_its_week = solve_staffing(
        _problem(
            demand,
            back_office_work=(BackOfficeWork("setup", SPIKE, 0),),
            change_cost_per_hour=1.0,
        )
    )
    assert in_its_week.back_office_hours is not None
    assert _weeks_of(in_its_week.back_office_hours) == [0.0, 30.0, 0.0, 0.0, 0.0]
    smoothed = solve_staffing(
        _problem(
            demand,
            back_office_work=(BackOfficeWork("setup", SPIKE, 14),),
            change_cost_per_hour=1.0,
        )
    )
    assert smoothed.back_office_hours is not None
    assert _weeks_of(smoothed.back_office_hours) == [0.0, 10.0, 10.0, 10.0, 0.0]
    assert smoothed.cost < in_its_week.cost
    # the same spike arriving in the last week: what waits after the plan is priced, so it is
    # still done in the horizon unless a cap forbids it
    late = np.array([[0.0], [0.0], [0.0], [0.0], [30.0]])
    plan = solve_staffing(_problem(demand, back_office_work=(BackOfficeWork("setup", late, 14),)))
    assert plan.back_office_hours is not None and plan.back_office_waiting is not None
    assert plan.back_office_hours[:, 0].sum() == pytest.approx(30.0)
    assert plan.back_office_waiting[-1, 0] == pytest.approx(0.0)


def test_set_up_shares_the_terminals_with_the_counters() -> None:
    # 32 h of counter work a week and 12 h of set-up. With 40 terminal-hours the counters keep
    # only 28 h once set-up has its terminal: no plan (lead time 0). Set-up that needs no
    # terminal fits; with 44 terminal-hours both fit, within them every week.
    demand = [[32.0]] * 2
    hours = np.array([k.session_hours for k in KINDS])
    setup = BackOfficeWork("setup", np.array([[12.0], [12.0]]), needs_terminal=True)
    notice = BackOfficeWork("notice", np.array([[12.0], [12.0]]))
    with pytest.raises(StaffingInfeasibleError):
        solve_staffing(
            _problem(demand, back_office_work=(setup,), terminal_hours_per_week=np.array([40.0]))
        )
    free = solve_staffing(
        _problem(demand, back_office_work=(notice,), terminal_hours_per_week=np.array([40.0]))
    )
    assert (free.counter_sessions @ hours)[:, 0].tolist() == [32.0, 32.0]
    fits = solve_staffing(
        _problem(demand, back_office_work=(setup,), terminal_hours_per_week=np.array([44.0]))
    )
    assert fits.back_office_done["setup"][:, 0].tolist() == [12.0, 12.0]
    assert ((fits.counter_sessions @ hours)[:, 0] + 12.0 <= 44.0 + 1e-9).all()


def test_malformed_back_office_work_or_terminal_hours_are_refused() -> None:
    with pytest.raises(StaffingError, match="'setup'"):
        solve_staffing(_problem([[1.0]], back_office_work=(BackOfficeWork("setup", np.ones(1)),)))
    with pytest.raises(StaffingError, match="deadline"):
        work = BackOfficeWork("setup", np.ones((1, 1)), deadline_days=8)
        solve_staffing(_problem([[1.0]], back_office_work=(work,)))
    with pytest.raises(StaffingError, match="terminal_hours_per_week"):
        solve_staffing(_problem([[1.0]], terminal_hours_per_week=np.array([-1.0])))


def test_without_a_named_limit_the_solver_stops_at_the_default_read_at_each_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default limit is read when the solver is called (the tests raise it so that their
    plans never depend on the machine's load): a tiny default stops the year's plan by the clock."""
    monkeypatch.setattr(staffing, "DEFAULT_TIME_LIMIT_SECONDS", 1e-3)
    try:
        stopped = solve_staffing(_a_year_of_twelve_sites()).status
    except StaffingError as error:  # stopped before any plan was found
        stopped = str(error)
    assert "time" in stopped.lower()
