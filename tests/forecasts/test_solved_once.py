"""The suite solves each staffing problem once per process (tests/conftest.py,
`_staffing_plans_solved_once_per_problem`): what a caller gets is the plan solved afresh, its
own copy, and a different problem is solved again."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from madoguchi.forecasts import staffing_plan
from madoguchi.planning import staffing
from madoguchi.planning.staffing import SessionKind, StaffingProblem

KINDS = (SessionKind("weekday", 8, 16, 5, 1.0), SessionKind("evening", 18, 19, 2, 1.5))


def _problem(hours: float) -> StaffingProblem:
    return StaffingProblem(
        site_names=("site0",),
        demand_hours=np.asarray([[hours], [4.0]]),
        max_counters=np.full(1, 10),
        session_kinds=KINDS,
        lead_time_weeks=0.0,
        backlog_cost_per_hour=0.0,
        spill_cost_per_hour=0.0,
    )


def _through_forecasts(problem: StaffingProblem) -> staffing.StaffingPlan:
    """`solve_staffing` as `forecasts.staffing_plan` calls it (the name the suite replaces)."""
    solve: Callable[[StaffingProblem], staffing.StaffingPlan] = vars(staffing_plan)[
        "solve_staffing"
    ]
    return solve(problem)


def test_a_problem_solved_again_gives_the_fresh_plan_as_a_copy_of_its_own() -> None:
    fresh = staffing.solve_staffing(_problem(83.0))
    first = _through_forecasts(_problem(83.0))
    again = _through_forecasts(_problem(83.0))
    for plan in (first, again):
        assert plan.status == fresh.status == "optimal"
        assert plan.cost == fresh.cost
        for name in ("counter_sessions", "served_hours", "backlog_hours", "spilled_hours"):
            assert np.array_equal(getattr(plan, name), getattr(fresh, name))
    assert again is not first and again.counter_sessions is not first.counter_sessions
    again.counter_sessions[0, 0, 0] = -1  # a caller's change stays in its copy
    assert _through_forecasts(_problem(83.0)).counter_sessions[0, 0, 0] >= 0


def test_a_different_problem_is_solved_for_itself() -> None:
    small = _through_forecasts(_problem(83.0))
    large = _through_forecasts(
        dataclasses.replace(_problem(83.0), demand_hours=np.asarray([[160.0], [4.0]]))
    )
    assert large.cost > small.cost
    assert large.cost == staffing.solve_staffing(_problem(160.0)).cost
