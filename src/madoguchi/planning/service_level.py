"""Counters for a service level, estimated with queueing formulas and checked by the simulation.

The formulas (`queueing.counters_for_mixed_demand`: booked visitors' load rounded up, plus
Erlang C — or Erlang A where residents give up — for the walk-ins) answer for a queue that never
closes. A real session opens empty and lasts a few hours, so the formulas are conservative,
most of all for short sessions (an evening of 1 h 45). `counters_for_service_level` therefore
starts from the formula's answer and lets the site simulation decide
(`simulation.simulate_site` until about 6,000 walk-ins came: the session's hours, booked
visitors at their slots, walk-ins at the hourly rate, booked visitors called first): it steps
down while one counter fewer still meets the level and up while the level is missed. Residents
who give up are not simulated; where patience is set, the Erlang A answer stands alone.

Pure: numpy and dataclasses only (the import-linter contract "planning is pure").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from madoguchi.planning.queueing import counters_for_mixed_demand
from madoguchi.planning.simulation import (
    AppointmentPlan,
    Procedure,
    Session,
    SiteModel,
    simulate_site,
)

__all__ = [
    "CounterAdvice",
    "counters_for_service_level",
    "simulated_walkin_level",
]

SIMULATED_WALKINS = 6_000
"""Walk-ins the check simulates (about ±0.5 points of service level at 80 %); the days follow
from the session's walk-ins a day, between MIN_DAYS and MAX_DAYS."""
MIN_DAYS, MAX_DAYS = 60, 3_000
SESSION_START_MINUTE = 9 * 60


@dataclass(frozen=True)
class CounterAdvice:
    """The counters a session needs, what the formula said and what the simulation saw.

    `simulated_level` is the share of walk-ins called within the target with `counters`;
    `simulated_level_one_fewer` with one counter less (None when `counters` ≤ 1 or not
    simulated).
    """

    counters: int
    formula_counters: int
    simulated_level: float | None
    simulated_level_one_fewer: float | None


def simulated_walkin_level(
    *,
    booked_per_hour: float,
    walkin_per_hour: float,
    service_minutes: float,
    counters: int,
    session_minutes: float,
    target_wait_minutes: float,
    days: int | None = None,
    seed: int = 15,
) -> float:
    """Share of walk-ins called within the target (the unserved count as late) over `days`
    simulated sessions of `session_minutes` with `counters` open; booked visitors come at the
    start of their slots, one a slot, evenly spaced at their hourly rate; every service is
    exponential with mean `service_minutes` as in Erlang C. 1.0 when no walk-in came. Raises
    ValueError on counters < 1 or a session that does not fit in a day."""
    if counters < 1:
        raise ValueError("counters must be ≥ 1")
    end = SESSION_START_MINUTE + session_minutes
    if end > 24 * 60:
        raise ValueError("the session must end within the day")
    hourly = tuple(
        walkin_per_hour
        * max(0.0, min(end, (hour + 1) * 60) - max(SESSION_START_MINUTE, hour * 60))
        / 60
        for hour in range(24)
    )
    if days is None:
        per_day = walkin_per_hour * session_minutes / 60
        wanted = SIMULATED_WALKINS / per_day if per_day > 0 else MIN_DAYS
        days = int(min(MAX_DAYS, max(MIN_DAYS, math.ceil(wanted))))
    model = SiteModel(
        procedures=(
            Procedure("visit", service_minutes, service_time_cv=1.0, distribution="exponential"),
        ),
        sessions_by_day=((Session(SESSION_START_MINUTE, end, counters),),) * days,
        walkin_arrivals_per_hour=hourly,
        appointments=(
            AppointmentPlan(
                slot_minutes=60.0 / booked_per_hour,
                bookings_per_slot=1,
                no_show_rate=0.0,
                arrival_offset_mean_minutes=0.0,
                arrival_offset_sd_minutes=0.0,
            )
            if booked_per_hour > 0
            else None
        ),
        overtime_limit_minutes=24 * 60 - end,
    )
    visits = simulate_site(model, seed=seed).visits
    walkins = visits.is_walk_in
    if not walkins.any():
        return 1.0
    waits = visits.call_minutes[walkins] - visits.arrival_minutes[walkins]
    return float(np.mean(np.nan_to_num(waits, nan=math.inf) <= target_wait_minutes))


@lru_cache(maxsize=4096)
def counters_for_service_level(
    *,
    booked_per_hour: float,
    walkin_per_hour: float,
    service_minutes: float,
    session_minutes: float,
    target_wait_minutes: float,
    service_level: float,
    patience_minutes: float = 0.0,
) -> CounterAdvice:
    """The fewest counters for a session so that `service_level` of walk-ins are called within
    `target_wait_minutes` — the formula's answer, checked and corrected by the simulation (see
    the module doc). Zero counters when nobody comes. Cached per process (the arguments are the
    key: pass rounded rates)."""
    formula = counters_for_mixed_demand(
        booked_per_hour=booked_per_hour,
        walkin_per_hour=walkin_per_hour,
        service_minutes=service_minutes,
        target_wait_minutes=target_wait_minutes,
        service_level=service_level,
        patience_minutes=patience_minutes,
    )
    if formula == 0 or patience_minutes > 0 or walkin_per_hour <= 0:
        return CounterAdvice(formula, formula, None, None)
    # booked visitors alone keep ⌈their load⌉ counters busy: never fewer than that
    floor = max(1, math.ceil(booked_per_hour * service_minutes / 60 - 1e-9))

    def level(counters: int) -> float:
        return simulated_walkin_level(
            booked_per_hour=booked_per_hour,
            walkin_per_hour=walkin_per_hour,
            service_minutes=service_minutes,
            counters=counters,
            session_minutes=session_minutes,
            target_wait_minutes=target_wait_minutes,
        )

    counters, seen = formula, level(formula)
    while seen < service_level:
        counters += 1
        seen = level(counters)
    below = level(counters - 1) if counters - 1 >= floor else None
    while below is not None and below >= service_level:
        counters, seen = counters - 1, below
        below = level(counters - 1) if counters - 1 >= floor else None
    return CounterAdvice(counters, formula, seen, below)
