"""Counters for a service level: the recommended configuration, simulated on its own (another
seed, more days), meets the level and one counter fewer does not; Erlang A's service level
agrees with a simulation of residents who give up, and tends to Erlang C as patience grows."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from madoguchi.planning.queueing import (
    counters_for_mixed_demand,
    counters_needed,
    counters_needed_with_abandonment,
    erlang_a,
    erlang_a_service_level,
    erlang_c,
)
from madoguchi.planning.service_level import (
    counters_for_service_level,
    simulated_walkin_level,
)

# (booked per hour, walk-ins per hour, minutes each, session minutes): a weekday, an evening
# of 1 h 45, a Saturday morning, walk-ins only, bookings only but for a few
SESSIONS = [
    (6.0, 3.0, 20.0, 525.0),
    (2.0, 10.0, 15.0, 525.0),
    (6.0, 3.0, 20.0, 105.0),
    (4.0, 6.0, 16.0, 180.0),
    (0.0, 12.0, 20.0, 525.0),
    (10.0, 1.0, 15.0, 525.0),
]


@pytest.mark.parametrize("session", SESSIONS)
def test_the_recommended_counters_meet_the_level_in_the_simulation_and_one_fewer_do_not(
    session: tuple[float, float, float, float],
) -> None:
    booked, walkin, minutes, length = session
    advice = counters_for_service_level(
        booked_per_hour=booked,
        walkin_per_hour=walkin,
        service_minutes=minutes,
        session_minutes=length,
        target_wait_minutes=20,
        service_level=0.8,
    )

    def level(counters: int) -> float:
        # an independent check: another seed, three times the walk-ins the advice simulated
        return simulated_walkin_level(
            booked_per_hour=booked,
            walkin_per_hour=walkin,
            service_minutes=minutes,
            counters=counters,
            session_minutes=length,
            target_wait_minutes=20,
            days=max(60, round(18_000 / (walkin * length / 60))),
            seed=2027,
        )

    assert level(advice.counters) >= 0.8
    assert advice.counters == 1 or level(advice.counters - 1) < 0.8
    # the formula is the starting point; the simulation may only move it by the session's hours
    assert abs(advice.counters - advice.formula_counters) <= 2


def test_a_short_session_needs_no_more_counters_than_a_long_one() -> None:
    def counters(length: float) -> int:
        return counters_for_service_level(
            booked_per_hour=3.0,
            walkin_per_hour=8.0,
            service_minutes=18.0,
            session_minutes=length,
            target_wait_minutes=20,
            service_level=0.8,
        ).counters

    assert counters(105) <= counters(525)


def test_nobody_coming_needs_no_counter() -> None:
    advice = counters_for_service_level(
        booked_per_hour=0.0,
        walkin_per_hour=0.0,
        service_minutes=20.0,
        session_minutes=525.0,
        target_wait_minutes=20,
        service_level=0.8,
    )
    assert advice.counters == 0


def _simulate_abandonment(
    counters: int, per_hour: float, minutes: float, patience: float, target: float, seed: int
) -> float:
    """M/M/c+M by brute force: FCFS, each resident leaves unserved after an exponential
    patience; the share called within the target (those who leave count as not)."""
    rng = np.random.default_rng(seed)
    n = 200_000
    arrivals = np.cumsum(rng.exponential(60 / per_hour, n))
    services = rng.exponential(minutes, n)
    patiences = rng.exponential(patience, n)
    free = [0.0] * counters
    heapq.heapify(free)
    on_time = 0
    for arrival, service, give_up in zip(arrivals, services, patiences, strict=True):
        called = max(arrival, free[0])
        if called - arrival > give_up:
            continue  # left before being called; takes no counter
        heapq.heapreplace(free, called + service)
        on_time += called - arrival <= target
    # the queue starts empty; over 200,000 residents that start does not count
    return on_time / n


@pytest.mark.parametrize(
    ("counters", "per_hour", "minutes", "patience"),
    [(3, 8.0, 20.0, 30.0), (5, 16.0, 20.0, 15.0), (2, 5.0, 15.0, 60.0)],
)
def test_erlang_a_service_level_agrees_with_a_simulation_of_residents_who_give_up(
    counters: int, per_hour: float, minutes: float, patience: float
) -> None:
    formula = erlang_a_service_level(counters, per_hour, minutes, patience, 20)
    simulated = _simulate_abandonment(counters, per_hour, minutes, patience, 20, seed=counters)
    assert formula == pytest.approx(simulated, abs=0.01)
    # and the waiting probability the same chain gives (target 0: called at once)
    at_once = erlang_a_service_level(counters, per_hour, minutes, patience, 0)
    assert at_once == pytest.approx(
        1 - erlang_a(counters, per_hour, minutes, patience).probability_of_waiting
    )


@pytest.mark.parametrize(("counters", "per_hour", "minutes"), [(3, 8.0, 20.0), (5, 12.0, 20.0)])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(
    counters: int, per_hour: float, minutes: float
) -> None:
    patient = erlang_a_service_level(counters, per_hour, minutes, 1e7, 20)
    assert patient == pytest.approx(
        erlang_c(counters, per_hour, minutes).service_level(20), abs=1e-3
    )
    assert counters_needed_with_abandonment(per_hour, minutes, 1e7, 20, 0.8) == counters_needed(
        per_hour, minutes, 20, 0.8
    )


def test_the_fewest_counters_with_abandonment_meet_the_level_and_one_fewer_do_not() -> None:
    for per_hour, minutes, patience in [(12.0, 20.0, 15.0), (30.0, 15.0, 30.0), (4.0, 10.0, 5.0)]:
        counters = counters_needed_with_abandonment(per_hour, minutes, patience, 20, 0.8)
        assert erlang_a_service_level(counters, per_hour, minutes, patience, 20) >= 0.8
        if counters > 1:
            assert erlang_a_service_level(counters - 1, per_hour, minutes, patience, 20) < 0.8


def test_walk_ins_who_give_up_use_erlang_a_in_the_mixed_answer() -> None:
    common = {
        "booked_per_hour": 3.0,
        "walkin_per_hour": 12.0,
        "service_minutes": 20.0,
        "target_wait_minutes": 20.0,
        "service_level": 0.8,
    }
    booked = 1  # 3 an hour × 20 minutes keep one counter busy
    assert counters_for_mixed_demand(**common) == booked + counters_needed(12.0, 20.0, 20, 0.8)
    assert counters_for_mixed_demand(
        **common, patience_minutes=15.0
    ) == booked + counters_needed_with_abandonment(12.0, 20.0, 15.0, 20, 0.8)
