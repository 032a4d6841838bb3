"""Weekly counter plan as a mixed-integer programme (scipy ``milp`` / HiGHS).

Decision: how many counter-sessions each site opens in each week for each session kind (weekday,
evening, weekend, … — the kinds are inputs); a counter-session is one counter staffed for one
session of that kind (e.g. one weekday 8:30–17:15), so 3 counters on each of 5 weekdays are 15.
Counting sessions rather than whole-week counters keeps the integer steps small (one day, not
five), which is what a roster decides and what keeps the relaxation tight enough to prove a 1%
gap on national-size instances within seconds. The plan must serve the forecast workload with a
bounded backlog (the lead-time target) within each site's counter (terminal/desk) and staff
limits, only in the weeks a site is open, at least cost.

Model, in counter-hours of work (``W`` weeks, ``S`` sites, ``K`` session kinds):

* ``x[w,s,k]`` integer counter-sessions, ``0 ≤ x ≤ max_counters[s]·days_per_week[k]`` (0 in weeks
  the site is closed);
* ``y[s]`` binary, 1 if temporary site ``s`` is used at all (then ``x ≤ its bound·y[s]``);
* ``f[w,s→t]`` ≥ 0 work arising at site ``s`` served at ``t`` (``t = s`` or an allowed spill);
* ``b[w,s]`` ≥ 0 work of site ``s`` still waiting at the end of week ``w``.

Balance ``b[w−1,s] + demand[w,s] = Σ_t f[w,s→t] + b[w,s]``; capacity
``Σ_s f[w,s→t] ≤ Σ_k session_hours[k]·x[w,t,k]``; staff ``Σ_k session_hours[k]·x[w,t,k] ≤
staff_hours_per_week[t]``; lead time ``b[w,s] ≤ lead_time_weeks · demand[w,s]`` (what is left over
is at most that many weeks of the week's own demand). Cost: counter-hours × the kind's hourly
cost, plus each temporary site's fixed cost, plus optional costs per spilled hour (residents
travel) and per backlog hour, plus the carry-over: work still waiting at the end of the last week
is priced at what serving it later costs (``carry_over_cost_per_hour``), so the plan does not end
by closing counters and leaving the last weeks' work to a week nobody planned; plus, optionally,
a price per counter-hour of change in a site's weekly hours (``change_cost_per_hour``, with
``d⁺[w,s] − d⁻[w,s] = hours[w,s] − hours[w−1,s]``), which keeps the roster steady.

Back-office work (``back_office_hours[w,s]``: inspection and pre-issuance set-up of the cards
delivered, notices) is staff time but not counter time: it is done in its week on weekday
hours, so it takes its hours out of the site's and the municipality's staff limits
(``Σ_k hours_k x[w,t,k] + back_office[w,t] ≤ staff_hours_per_week[t]``, and the same summed over
sites against ``total_staff_hours_per_week``) and is costed at ``back_office_cost_per_hour``.
Back-office work may also wait (``back_office_work``: one :class:`BackOfficeWork` per kind —
set-up, notices — each with the days it may wait after the cards are delivered, ``D``): then
``g[w,s]`` ≥ 0 hours done and ``c[w,s]`` ≥ 0 hours waiting, ``c[w−1,s] + arising[w,s] = g[w,s] +
c[w,s]``, and the deadline ``c[w,s] ≤ (what arose in the last D days up to week w's end)`` —
first in, first done, so nothing waits longer than ``D`` days. The plan's unit is the week, so a
week's deliveries are taken as spread evenly over its seven days: the last ``D`` days are the
``D // 7`` whole weeks up to week ``w`` plus ``(D mod 7) / 7`` of the week before them (10 days:
all of week ``w`` and 3/7 of week ``w − 1``). What still waits after the last week is priced like
the counters' carry-over. The done hours take the
place of the arising ones in the staff limits, the cost and the change measure. A site's
integrated terminals (``terminal_hours_per_week``: terminal-hours in the sessions the site may
hold) are shared between its counter-sessions (every open counter uses a terminal) and the
back-office work that needs one (pre-issuance set-up): ``Σ_k hours_k·x[w,s,k] + Σ terminal work
≤ terminal_hours_per_week[s]``. With a change
price the measure of a site's week is its staff hours (counter-hours plus back-office hours done),
so a delivery spike whose work may wait is spread over the weeks its deadline allows.
A temporary site is opened (``y[s] = 1``) only when the counter-hours it saves are worth its fixed
cost.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = [
    "CARD_SYSTEM_CLOSES_HOUR",
    "BackOfficeWork",
    "SessionKind",
    "StaffingError",
    "StaffingInfeasibleError",
    "StaffingPlan",
    "StaffingProblem",
    "default_session_kinds",
    "solve_staffing",
    "workload_hours",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CARD_SYSTEM_CLOSES_HOUR = 20.0
"""The national card system closes at 20:00: no counter session may run past it."""


class StaffingError(ValueError):
    """The staffing problem is malformed, or the solver found no plan."""


class StaffingInfeasibleError(StaffingError):
    """No plan meets the demand and lead-time target within the limits."""


@dataclass(frozen=True, slots=True)
class SessionKind:
    """A kind of session a counter can be opened for, e.g. weekday 8:30–17:15 five days a week.

    Hours are clock hours as decimals (17.25 = 17:15). ``cost_per_counter_hour`` is the staff cost
    of one counter for one hour (premiums for evenings and weekends go here). Raises StaffingError
    when the session ends after 20:00 or is empty.
    """

    name: str
    start_hour: float
    end_hour: float
    days_per_week: float
    cost_per_counter_hour: float

    def __post_init__(self) -> None:
        if self.end_hour > CARD_SYSTEM_CLOSES_HOUR:
            raise StaffingError(
                f"session kind {self.name!r} ends at {self.end_hour:g}h, after the card "
                f"system closes at {CARD_SYSTEM_CLOSES_HOUR:g}h"
            )
        if not 0 <= self.start_hour < self.end_hour:
            raise StaffingError(f"session kind {self.name!r} must end after it starts")
        if not self.days_per_week > 0 or not self.cost_per_counter_hour >= 0:
            raise StaffingError(f"session kind {self.name!r}: days and cost must be positive")

    @property
    def session_hours(self) -> float:
        """Counter-hours one counter-session of this kind offers."""
        return self.end_hour - self.start_hour

    @property
    def hours_per_week(self) -> float:
        """Counter-hours one counter open at every session of this kind offers per week."""
        return self.session_hours * self.days_per_week


@dataclass(frozen=True)
class BackOfficeWork:
    """One kind of back-office work: ``hours`` [week, site] arising (when the cards are
    delivered), the days it may wait (``deadline_days``, 0 = done in its week; a week's
    deliveries count as spread evenly over its days, see the module docstring) and whether it
    needs an integrated terminal (pre-issuance set-up does)."""

    name: str
    hours: FloatArray
    deadline_days: int = 0
    needs_terminal: bool = False

    def may_wait(self) -> FloatArray:
        """[week, site] the most of this work that may still wait at each week's end: what
        arose in the last ``deadline_days`` days up to it."""
        arisen = np.cumsum(self.hours, axis=0)
        whole, part = divmod(self.deadline_days, 7)
        before = np.zeros_like(arisen)
        if whole < len(arisen):
            before[whole:] = arisen[: len(arisen) - whole]
        older = np.zeros_like(self.hours)  # the week just before the whole weeks
        if whole < len(self.hours):
            older[whole:] = self.hours[: len(self.hours) - whole]
        waiting: FloatArray = np.maximum(arisen - before + older * part / 7, 0.0)
        return waiting


def default_session_kinds(
    *,
    weekday_cost_per_hour: float = 3000.0,
    evening_premium: float = 1.25,
    weekend_premium: float = 1.35,
) -> tuple[SessionKind, SessionKind, SessionKind]:
    """Return the usual three kinds: weekday 8:30–17:15 (5 days), one evening 17:15–19:00, one
    weekend morning 9:00–12:00; costs in yen per counter-hour with the given premiums."""
    return (
        SessionKind("weekday", 8.5, 17.25, 5, weekday_cost_per_hour),
        SessionKind("evening", 17.25, 19.0, 1, weekday_cost_per_hour * evening_premium),
        SessionKind("weekend", 9.0, 12.0, 1, weekday_cost_per_hour * weekend_premium),
    )


def workload_hours(
    demand_visits: npt.ArrayLike,
    service_minutes_by_procedure: npt.ArrayLike,
    *,
    productive_share: float = 0.85,
) -> FloatArray:
    """Turn visits by procedure into counter-hours of work.

    ``demand_visits`` has shape (weeks, sites, procedures); ``service_minutes_by_procedure`` has
    one mean service time per procedure. ``productive_share`` is the part of an open counter-hour
    spent serving (gaps between visitors, breaks): 0.85 means each work hour needs 1/0.85 counter
    hours. Returns shape (weeks, sites). Raises StaffingError on mismatched shapes or values.
    """
    visits = np.asarray(demand_visits, dtype=np.float64)
    minutes = np.asarray(service_minutes_by_procedure, dtype=np.float64)
    if visits.ndim != 3 or minutes.shape != (visits.shape[2],):
        raise StaffingError(
            "demand_visits must be (weeks, sites, procedures) matching service times"
        )
    if (visits < 0).any() or (minutes <= 0).any() or not 0 < productive_share <= 1:
        raise StaffingError("visits must be ≥ 0, service times and productive_share positive")
    result: FloatArray = visits @ minutes / 60.0 / productive_share
    return result


@dataclass(frozen=True)
class StaffingProblem:
    """Inputs of the weekly plan. Arrays are indexed [week, site] or [site].

    ``demand_hours`` — counter-hours of work arising per week and site (see
    :func:`workload_hours`). ``max_counters`` — counters a site can open at once (desks with
    terminals). ``staff_hours_per_week`` — counter-hours its staff can cover per week (inf = no
    limit). ``open_weeks`` — False where the site is closed (temporary sites outside their
    period); default all open. ``site_kind_days`` — [site, kind] days a week the site can hold
    that kind of session (0: never, e.g. no evenings at a post office); default the kind's own
    ``days_per_week`` everywhere. ``temporary_fixed_cost`` — cost of using a temporary site at all
    (NaN for permanent sites). ``spill`` — allowed (from_site, to_site) pairs: work arising at one
    site may be served at the other. ``lead_time_weeks`` — the backlog left at a week's end may be
    at most this many weeks of that week's demand (0 = all served in its week).
    ``spill_cost_per_hour`` (same currency as staff costs, per hour of work served away from
    where it arose: the residents' detour) defaults to ¥100 — besides keeping plans local, a
    price on spill removes the many equal-cost ways to route work, which lets HiGHS find good
    plans fast (measured on the 52 × 50 benchmark: ≤ 0.7% proven gap in 1.5–5 s at ¥100, a
    1.6–2.2% gap after 10 s at ¥0). ``backlog_cost_per_hour`` defaults to 0: the lead-time bound
    already limits waiting, and a small backlog price slowed the proof on the same instances.
    ``carry_over_cost_per_hour`` prices each hour of work still waiting after the last week (what
    serving it after the horizon costs); None (default) takes the dearest session kind's hourly
    cost, so serving within the horizon is never dearer per hour — without it the last weeks
    close counters and hand their work to the week after the plan. ``change_cost_per_hour``
    prices each counter-hour a site's weekly hours move from one week to the next (0 = no
    penalty): a higher price gives a steadier roster at some extra staff cost.
    ``total_staff_hours_per_week`` caps the counter-hours of all sites together in each week (the
    staff the municipality can field: headcount × hours each; None = no cap).
    ``back_office_hours`` — [week, site] staff hours of back-office work (set-up, notices), done
    in its week; it counts against both staff limits and costs ``back_office_cost_per_hour`` an
    hour (None: the cheapest session kind's hourly cost, a weekday hour).
    """

    site_names: tuple[str, ...]
    demand_hours: FloatArray
    max_counters: IntArray
    session_kinds: tuple[SessionKind, ...] = field(default_factory=default_session_kinds)
    staff_hours_per_week: FloatArray | None = None
    open_weeks: BoolArray | None = None
    site_kind_days: FloatArray | None = None
    temporary_fixed_cost: FloatArray | None = None
    spill: tuple[tuple[int, int], ...] = ()
    lead_time_weeks: float = 2.0
    initial_backlog_hours: FloatArray | None = None
    spill_cost_per_hour: float = 100.0
    backlog_cost_per_hour: float = 0.0
    carry_over_cost_per_hour: float | None = None
    change_cost_per_hour: float = 0.0
    total_staff_hours_per_week: float | None = None
    back_office_hours: FloatArray | None = None
    back_office_cost_per_hour: float | None = None
    back_office_work: tuple[BackOfficeWork, ...] = ()
    """Back-office work that may wait (see the module docstring), besides ``back_office_hours``."""
    terminal_hours_per_week: FloatArray | None = None
    """[site] terminal-hours a week in the sessions the site may hold (None: no limit)."""

    @property
    def weeks(self) -> int:
        """Number of weeks planned."""
        return int(self.demand_hours.shape[0])

    @property
    def sites(self) -> int:
        """Number of sites."""
        return len(self.site_names)

    def validate(self) -> None:
        """Raise StaffingError naming the first malformed input."""
        weeks, sites = self.demand_hours.shape if self.demand_hours.ndim == 2 else (-1, -1)
        if weeks < 1 or sites != len(self.site_names):
            raise StaffingError("demand_hours must be (weeks, sites) with one column per site")
        if not np.isfinite(self.demand_hours).all() or (self.demand_hours < 0).any():
            raise StaffingError("demand_hours must be finite and ≥ 0")
        if self.max_counters.shape != (sites,) or (self.max_counters < 0).any():
            raise StaffingError("max_counters must hold one count ≥ 0 per site")
        for name, array in (
            ("staff_hours_per_week", self.staff_hours_per_week),
            ("temporary_fixed_cost", self.temporary_fixed_cost),
            ("initial_backlog_hours", self.initial_backlog_hours),
        ):
            if array is not None and array.shape != (sites,):
                raise StaffingError(f"{name} must hold one value per site")
        if self.open_weeks is not None and self.open_weeks.shape != (weeks, sites):
            raise StaffingError("open_weeks must be (weeks, sites)")
        if self.back_office_hours is not None and (
            self.back_office_hours.shape != (weeks, sites)
            or not np.isfinite(self.back_office_hours).all()
            or (self.back_office_hours < 0).any()
        ):
            raise StaffingError("back_office_hours must be (weeks, sites), finite and ≥ 0")
        for work in self.back_office_work:
            if (
                work.hours.shape != (weeks, sites)
                or not np.isfinite(work.hours).all()
                or (work.hours < 0).any()
                or not 0 <= work.deadline_days <= 7 * weeks
            ):
                raise StaffingError(
                    f"back-office work {work.name!r}: hours must be (weeks, sites), finite and "
                    "≥ 0, and its deadline 0..7 × weeks days"
                )
        if self.terminal_hours_per_week is not None and (
            self.terminal_hours_per_week.shape != (sites,)
            or (self.terminal_hours_per_week < 0).any()
        ):
            raise StaffingError("terminal_hours_per_week must hold one value ≥ 0 per site")
        if self.back_office_cost_per_hour is not None and not self.back_office_cost_per_hour >= 0:
            raise StaffingError("back_office_cost_per_hour must be ≥ 0")
        if self.site_kind_days is not None and (
            self.site_kind_days.shape != (sites, len(self.session_kinds))
            or (self.site_kind_days < 0).any()
        ):
            raise StaffingError("site_kind_days must be (sites, kinds) and ≥ 0")
        if not self.session_kinds:
            raise StaffingError("at least one session kind is needed")
        for origin, target in self.spill:
            if not (0 <= origin < sites and 0 <= target < sites) or origin == target:
                raise StaffingError(f"spill pair ({origin}, {target}) is not two different sites")
        if not self.lead_time_weeks >= 0:
            raise StaffingError("lead_time_weeks must be ≥ 0")
        if self.total_staff_hours_per_week is not None and not (
            self.total_staff_hours_per_week >= 0
        ):
            raise StaffingError("total_staff_hours_per_week must be ≥ 0")
        if not self.change_cost_per_hour >= 0 or not (
            self.carry_over_cost_per_hour is None or self.carry_over_cost_per_hour >= 0
        ):
            raise StaffingError("change and carry-over costs must be ≥ 0")

    @property
    def back_office(self) -> FloatArray:
        """Back-office staff hours arising [week, site], of every kind (zeros when none)."""
        total = (
            np.zeros(self.demand_hours.shape)
            if self.back_office_hours is None
            else self.back_office_hours.copy()
        )
        for work in self.back_office_work:
            total = total + work.hours
        return total

    def fixed_back_office(self, *, terminal: bool | None = None) -> FloatArray:
        """[week, site] back-office hours done in their week (no deadline), optionally only
        those that need (True) or do not need (False) a terminal."""
        total = np.zeros(self.demand_hours.shape)
        if self.back_office_hours is not None and terminal is not True:
            total += self.back_office_hours
        for work in self.back_office_work:
            if work.deadline_days == 0 and terminal in (None, work.needs_terminal):
                total += work.hours
        return total

    @property
    def movable_back_office(self) -> tuple[BackOfficeWork, ...]:
        """The back-office work that may wait (a deadline of a day or more)."""
        return tuple(work for work in self.back_office_work if work.deadline_days > 0)

    @property
    def back_office_price(self) -> float:
        """Cost of one back-office hour (see the class docstring)."""
        if self.back_office_cost_per_hour is not None:
            return self.back_office_cost_per_hour
        return min(kind.cost_per_counter_hour for kind in self.session_kinds)

    @property
    def carry_over_price(self) -> float:
        """Cost per hour of work left after the last week (see the class docstring)."""
        if self.carry_over_cost_per_hour is not None:
            return self.carry_over_cost_per_hour
        return max(kind.cost_per_counter_hour for kind in self.session_kinds)


@dataclass(frozen=True)
class StaffingPlan:
    """The solver's plan.

    ``counter_sessions[w, s, k]`` counter-sessions opened (see :attr:`counters_open` for the
    mean counters per session); ``served_hours[w, s]`` work served at site s;
    ``backlog_hours[w, s]`` work of site s waiting at the end of week w; ``spilled_hours[w, s]``
    work of site s served elsewhere; ``temporary_used[s]``. ``status`` is "optimal",
    "time_limit" (a feasible plan, gap not proven) or "relaxed" (LP relaxation, fractional
    counters). ``mip_gap`` is the proven relative gap between ``cost`` and the best bound.
    """

    counter_sessions: FloatArray
    days_per_week: FloatArray
    served_hours: FloatArray
    backlog_hours: FloatArray
    spilled_hours: FloatArray
    temporary_used: BoolArray
    cost: float
    dual_bound: float
    mip_gap: float
    status: str
    solve_seconds: float
    variables: int
    integer_variables: int
    back_office_hours: FloatArray | None = None
    """Back-office staff hours [week, site] in the plan (the problem's, done in their week)."""
    back_office_cost: float = 0.0
    """Their cost, part of ``cost``."""
    back_office_waiting: FloatArray | None = None
    """Back-office hours [week, site] arisen and not yet done at the end of each week (work that
    may wait); the last week's wait is the work left after the plan."""
    back_office_done: dict[str, FloatArray] = field(default_factory=dict)
    """Per kind of ``back_office_work``, the hours done [week, site]."""

    @property
    def counters_open(self) -> FloatArray:
        """Mean counters open per session, [week, site, kind] (counter-sessions ÷ sessions)."""
        result: FloatArray = self.counter_sessions / self.days_per_week
        return result


def _diagnose(problem: StaffingProblem, site_week_hours: FloatArray) -> str:
    """Name the first site and week whose demand can't be met even at full capacity.

    `site_week_hours` — per site, counter-hours one counter offers in a full week.
    """
    capacity = problem.max_counters.astype(np.float64) * site_week_hours
    weekly = np.broadcast_to(capacity, problem.demand_hours.shape).copy()
    if problem.staff_hours_per_week is not None:  # less the back office's hours
        weekly = np.minimum(weekly, problem.staff_hours_per_week[None, :] - problem.back_office)
    weekly = np.maximum(weekly, 0.0)
    if problem.open_weeks is not None:
        weekly[~problem.open_weeks] = 0.0
    reach = weekly.copy()  # capacity of a site plus every site it may spill to (an upper bound)
    for origin, target in problem.spill:
        reach[:, origin] += weekly[:, target]
    initial = (
        problem.initial_backlog_hours
        if problem.initial_backlog_hours is not None
        else np.zeros(problem.sites)
    )
    must_serve = (
        np.cumsum(problem.demand_hours, axis=0)
        + initial
        - problem.lead_time_weeks * problem.demand_hours
    )
    short = must_serve - np.cumsum(reach, axis=0) > 1e-6
    if short.any():
        week, site = (int(v) for v in np.argwhere(short)[0])
        return (
            f"site {problem.site_names[site]!r} cannot keep its lead time of "
            f"{problem.lead_time_weeks:g} weeks by week {week + 1}: "
            f"{must_serve[week, site]:.0f} counter-hours due, at most "
            f"{np.cumsum(reach, axis=0)[week, site]:.0f} available"
        )
    if problem.total_staff_hours_per_week is not None:
        due = must_serve.sum(axis=1)
        staff = problem.total_staff_hours_per_week - problem.back_office.sum(axis=1)
        available = np.cumsum(np.maximum(np.minimum(weekly.sum(axis=1), staff), 0.0), axis=0)
        short_total = due - available > 1e-6
        if short_total.any():
            week = int(np.argmax(short_total))
            return (
                f"all sites together cannot keep the lead time of {problem.lead_time_weeks:g} "
                f"weeks by week {week + 1} within {problem.total_staff_hours_per_week:.0f} staff "
                f"hours a week: {due[week]:.0f} counter-hours due, at most "
                f"{available[week]:.0f} available"
            )
    return "no plan meets demand, lead time, counter and staff limits together"


DEFAULT_TIME_LIMIT_SECONDS = 10.0
"""How long `solve_staffing` searches when the caller names no limit (read at each call)."""


def solve_staffing(
    problem: StaffingProblem,
    *,
    time_limit_seconds: float | None = None,
    mip_rel_gap: float = 0.01,
    relax: bool = False,
) -> StaffingPlan:
    """Return the least-cost weekly plan for ``problem`` (HiGHS through ``scipy.optimize.milp``).

    Stops when the relative gap between the plan's cost and the proven lower bound is at most
    ``mip_rel_gap`` or after ``time_limit_seconds`` (then status "time_limit" with the gap
    reached). ``relax=True`` solves the LP relaxation instead (fractional counters; a lower
    bound). Raises StaffingError on malformed input, StaffingInfeasibleError (with the first
    site and week that cannot be served, when one can be named) when no plan exists, and
    StaffingError when the solver stops without any plan.

    A plan cut short by the clock depends on how busy the machine was; one that reached its
    gap does not (HiGHS is deterministic) — the tests raise the default limit for that reason.
    """
    if time_limit_seconds is None:
        time_limit_seconds = DEFAULT_TIME_LIMIT_SECONDS
    problem.validate()
    if not time_limit_seconds > 0 or not 0 <= mip_rel_gap < 1:
        raise StaffingError("time_limit_seconds must be positive and mip_rel_gap in [0, 1)")
    weeks, sites, kinds = problem.weeks, problem.sites, len(problem.session_kinds)
    hours = np.array([k.session_hours for k in problem.session_kinds])
    days = np.array([k.days_per_week for k in problem.session_kinds])
    site_days = (
        problem.site_kind_days
        if problem.site_kind_days is not None
        else np.broadcast_to(days, (sites, kinds))
    )
    hourly_cost = np.array([k.cost_per_counter_hour for k in problem.session_kinds])
    back_office = problem.fixed_back_office()  # done in its week: a constant of the plan
    movable = problem.movable_back_office
    demand = problem.demand_hours
    fixed = (
        problem.temporary_fixed_cost
        if problem.temporary_fixed_cost is not None
        else np.full(sites, np.nan)
    )
    temporary_sites = np.flatnonzero(~np.isnan(fixed))
    pairs = [(s, s) for s in range(sites)] + list(problem.spill)
    n_pairs = len(pairs)

    # Variable layout: x | y | f | b | d⁺ d⁻ (week-to-week change, only when priced) | g c per
    # kind of back-office work that may wait (hours done, hours waiting).
    n_x = weeks * sites * kinds
    n_y = temporary_sites.size
    n_f = weeks * n_pairs
    n_b = weeks * sites
    smooth = problem.change_cost_per_hour > 0 and weeks > 1
    n_d = (weeks - 1) * sites if smooth else 0
    x0, y0, f0, b0 = 0, n_x, n_x + n_y, n_x + n_y + n_f
    d0 = b0 + n_b
    o0 = d0 + 2 * n_d
    n_o = weeks * sites
    n_vars = o0 + 2 * n_o * len(movable)

    def done_index(i: int) -> IntArray:
        """[week, site] indexes of the hours of movable work ``i`` done."""
        index: IntArray = o0 + 2 * i * n_o + np.arange(n_o).reshape(weeks, sites)
        return index

    def waiting_index(i: int) -> IntArray:
        """[week, site] indexes of the hours of movable work ``i`` waiting at the week's end."""
        return done_index(i) + n_o

    def x_index(w: IntArray, s: IntArray, k: IntArray) -> IntArray:
        index: IntArray = x0 + (w * sites + s) * kinds + k
        return index

    week_ids = np.arange(weeks)
    pair_origin = np.array([p[0] for p in pairs])
    pair_target = np.array([p[1] for p in pairs])

    cost = np.zeros(n_vars)
    cost[x0:y0] = np.tile(hours * hourly_cost, weeks * sites)
    cost[y0:f0] = fixed[temporary_sites]
    spill_cost = np.where(pair_origin != pair_target, problem.spill_cost_per_hour, 0.0)
    cost[f0:b0] = np.tile(spill_cost, weeks)
    cost[b0:d0] = problem.backlog_cost_per_hour
    cost[d0 - sites : d0] += problem.carry_over_price  # the last week's carry-over
    cost[d0:o0] = problem.change_cost_per_hour
    for i in range(len(movable)):
        cost[done_index(i).ravel()] = problem.back_office_price
        cost[waiting_index(i)[-1]] = problem.carry_over_price  # left after the last week

    lower = np.zeros(n_vars)
    upper = np.full(n_vars, np.inf)
    site_cap = np.broadcast_to(problem.max_counters.astype(np.float64), (weeks, sites)).copy()
    if problem.open_weeks is not None:
        site_cap[~problem.open_weeks] = 0.0
    upper[x0:y0] = np.floor((site_cap[:, :, None] * site_days[None, :, :]).ravel() + 1e-9)
    upper[y0:f0] = 1.0
    upper[b0:d0] = (problem.lead_time_weeks * demand).ravel()
    for i, work in enumerate(movable):
        # what waits at a week's end arose within its last `deadline_days` days
        upper[waiting_index(i).ravel()] = work.may_wait().ravel()
    integrality = np.zeros(n_vars, dtype=np.int64)
    if not relax:
        integrality[x0:f0] = 1

    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    row_lower: list[FloatArray] = []
    row_upper: list[FloatArray] = []
    next_row = 0

    def add(r: npt.ArrayLike, c: npt.ArrayLike, v: npt.ArrayLike) -> None:
        r_arr, c_arr, v_arr = np.broadcast_arrays(
            np.asarray(r, np.int64), np.asarray(c, np.int64), np.asarray(v, np.float64)
        )
        rows.append(r_arr.ravel())
        cols.append(c_arr.ravel())
        vals.append(v_arr.ravel())

    # Balance (equality), one row per (w, origin s).
    balance_row = next_row + week_ids[:, None] * sites + np.arange(sites)[None, :]
    add(balance_row[:, pair_origin], f0 + week_ids[:, None] * n_pairs + np.arange(n_pairs), 1.0)
    add(balance_row, b0 + week_ids[:, None] * sites + np.arange(sites), 1.0)
    add(balance_row[1:], b0 + week_ids[:-1, None] * sites + np.arange(sites), -1.0)
    rhs = demand.copy()
    if problem.initial_backlog_hours is not None:
        rhs[0] += problem.initial_backlog_hours
    row_lower.append(rhs.ravel())
    row_upper.append(rhs.ravel())
    next_row += weeks * sites

    # Capacity: Σ f into t − Σ_k hours_k x[w,t,k] ≤ 0.
    cap_row = next_row + week_ids[:, None] * sites + np.arange(sites)[None, :]
    add(cap_row[:, pair_target], f0 + week_ids[:, None] * n_pairs + np.arange(n_pairs), 1.0)
    w_g, s_g, k_g = np.meshgrid(week_ids, np.arange(sites), np.arange(kinds), indexing="ij")
    add(cap_row[w_g, s_g], x_index(w_g, s_g, k_g), -hours[k_g])
    row_lower.append(np.full(weeks * sites, -np.inf))
    row_upper.append(np.zeros(weeks * sites))
    next_row += weeks * sites

    # Staff hours per site and week.
    if problem.staff_hours_per_week is not None:
        limited = np.flatnonzero(np.isfinite(problem.staff_hours_per_week))
        if limited.size:
            staff_row = next_row + week_ids[:, None] * limited.size + np.arange(limited.size)
            w_g, j_g, k_g = np.meshgrid(
                week_ids, np.arange(limited.size), np.arange(kinds), indexing="ij"
            )
            add(staff_row[w_g, j_g], x_index(w_g, limited[j_g], k_g), hours[k_g])
            for i in range(len(movable)):
                add(staff_row, done_index(i)[:, limited], 1.0)
            row_lower.append(np.full(weeks * limited.size, -np.inf))
            row_upper.append(
                (problem.staff_hours_per_week[limited][None, :] - back_office[:, limited]).ravel()
            )
            next_row += weeks * limited.size

    # All sites together: Σ_s Σ_k hours_k x[w,s,k] ≤ the staff the municipality can field.
    if problem.total_staff_hours_per_week is not None:
        w_g, s_g, k_g = np.meshgrid(week_ids, np.arange(sites), np.arange(kinds), indexing="ij")
        add(next_row + w_g, x_index(w_g, s_g, k_g), hours[k_g])
        for i in range(len(movable)):
            add(next_row + week_ids[:, None], done_index(i), 1.0)
        row_lower.append(np.full(weeks, -np.inf))
        row_upper.append(problem.total_staff_hours_per_week - back_office.sum(axis=1))
        next_row += weeks

    # Back-office work that may wait: c[w−1,s] + arising[w,s] = g[w,s] + c[w,s].
    for i, work in enumerate(movable):
        rows_i = next_row + np.arange(n_o).reshape(weeks, sites)
        add(rows_i, done_index(i), 1.0)
        add(rows_i, waiting_index(i), 1.0)
        add(rows_i[1:], waiting_index(i)[:-1], -1.0)
        row_lower.append(work.hours.ravel())
        row_upper.append(work.hours.ravel())
        next_row += n_o

    # Terminals: the counter-sessions plus the back-office work that needs one.
    if problem.terminal_hours_per_week is not None:
        terminal_rows = next_row + np.arange(n_o).reshape(weeks, sites)
        w_g, s_g, k_g = np.meshgrid(week_ids, np.arange(sites), np.arange(kinds), indexing="ij")
        add(terminal_rows[w_g, s_g], x_index(w_g, s_g, k_g), hours[k_g])
        for i, work in enumerate(movable):
            if work.needs_terminal:
                add(terminal_rows, done_index(i), 1.0)
        row_lower.append(np.full(n_o, -np.inf))
        row_upper.append(
            (
                problem.terminal_hours_per_week[None, :] - problem.fixed_back_office(terminal=True)
            ).ravel()
        )
        next_row += n_o

    # Temporary sites: x[w,t,k] ≤ max_counters[t] · y[t].
    if n_y:
        w_g, j_g, k_g = np.meshgrid(week_ids, np.arange(n_y), np.arange(kinds), indexing="ij")
        temp_rows = next_row + np.arange(w_g.size).reshape(w_g.shape)
        add(temp_rows, x_index(w_g, temporary_sites[j_g], k_g), 1.0)
        add(
            temp_rows,
            y0 + j_g,
            -np.floor(
                problem.max_counters[temporary_sites[j_g]] * site_days[temporary_sites[j_g], k_g]
                + 1e-9
            ),
        )
        row_lower.append(np.full(w_g.size, -np.inf))
        row_upper.append(np.zeros(w_g.size))
        next_row += w_g.size

    # Change: Σ_k h_k x[w,s,k] − Σ_k h_k x[w−1,s,k] − d⁺[w,s] + d⁻[w,s] = 0, for w ≥ 1.
    if smooth:
        change_rows = next_row + np.arange(n_d).reshape(weeks - 1, sites)
        w_g, s_g, k_g = np.meshgrid(
            np.arange(1, weeks), np.arange(sites), np.arange(kinds), indexing="ij"
        )
        add(change_rows[w_g - 1, s_g], x_index(w_g, s_g, k_g), hours[k_g])
        add(change_rows[w_g - 1, s_g], x_index(w_g - 1, s_g, k_g), -hours[k_g])
        add(change_rows, d0 + np.arange(n_d).reshape(weeks - 1, sites), -1.0)
        add(change_rows, d0 + n_d + np.arange(n_d).reshape(weeks - 1, sites), 1.0)
        for i in range(len(movable)):  # a site's staff hours: the back office's too
            add(change_rows, done_index(i)[1:], 1.0)
            add(change_rows, done_index(i)[:-1], -1.0)
        fixed_change = -np.diff(back_office, axis=0).ravel()
        row_lower.append(fixed_change)
        row_upper.append(fixed_change)
        next_row += n_d

    matrix = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(next_row, n_vars),
    )
    started = time.perf_counter()
    result = milp(
        cost,
        integrality=integrality,
        bounds=Bounds(lower, upper),
        constraints=LinearConstraint(matrix, np.concatenate(row_lower), np.concatenate(row_upper)),
        options={"time_limit": time_limit_seconds, "mip_rel_gap": mip_rel_gap, "disp": False},
    )
    elapsed = time.perf_counter() - started
    if result.status == 2:
        raise StaffingInfeasibleError(_diagnose(problem, (site_days * hours).sum(axis=1)))
    if result.x is None:
        raise StaffingError(f"the solver stopped without a plan: {result.message}")

    solution = np.asarray(result.x, dtype=np.float64)
    done_by_kind = {
        work.name: work.hours.copy()
        for work in problem.back_office_work
        if work.deadline_days == 0  # done in its week
    }
    done_by_kind.update(
        (work.name, np.maximum(solution[done_index(i)], 0.0)) for i, work in enumerate(movable)
    )
    waiting = sum(
        (np.maximum(solution[waiting_index(i)], 0.0) for i in range(len(movable))),
        np.zeros((weeks, sites)),
    )
    done = back_office + sum(
        (done_by_kind[work.name] for work in movable), np.zeros((weeks, sites))
    )
    back_office_cost = float(done.sum()) * problem.back_office_price
    fixed_back_office_cost = float(back_office.sum()) * problem.back_office_price
    counter_sessions = solution[x0:y0].reshape(weeks, sites, kinds)
    if not relax:
        counter_sessions = np.round(counter_sessions)
    flows = solution[f0:b0].reshape(weeks, n_pairs)
    served = np.zeros((weeks, sites))
    np.add.at(served.T, pair_target, flows.T)
    spilled = np.zeros((weeks, sites))
    crossing = pair_origin != pair_target
    np.add.at(spilled.T, pair_origin[crossing], flows[:, crossing].T)
    temporary_used = np.zeros(sites, dtype=bool)
    temporary_used[temporary_sites] = solution[y0:f0] > 0.5
    cost_value = float(result.fun) + fixed_back_office_cost
    if relax:
        status, gap, bound = "relaxed", 0.0, cost_value
    else:
        bound = float(getattr(result, "mip_dual_bound", math.nan)) + fixed_back_office_cost
        gap = float(getattr(result, "mip_gap", math.nan))
        status = "optimal" if result.status == 0 else "time_limit"
    return StaffingPlan(
        counter_sessions=counter_sessions,
        days_per_week=days,
        served_hours=served,
        backlog_hours=solution[b0:d0].reshape(weeks, sites),
        spilled_hours=spilled,
        temporary_used=temporary_used,
        cost=cost_value,
        back_office_hours=done,
        back_office_cost=back_office_cost,
        back_office_waiting=waiting,
        back_office_done=done_by_kind,
        dual_bound=bound,
        mip_gap=gap,
        status=status,
        solve_seconds=elapsed,
        variables=n_vars,
        integer_variables=int(integrality.sum()),
    )
