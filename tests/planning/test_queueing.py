"""Erlang B/C/A against published textbook values and exact limiting cases."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from madoguchi.planning.queueing import (
    counters_needed,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_probability_of_waiting,
)


def _erlang_c_by_textbook_formula(counters: int, load: int) -> float:
    """The factorial form of Erlang C, in exact rational arithmetic (an independent check)."""
    a = Fraction(load)
    head = sum(a**k / math.factorial(k) for k in range(counters))
    tail = a**counters / math.factorial(counters) * counters / (counters - a)
    return float(tail / (head + tail))


def test_mmc_at_85_percent_load_waits_10_40_minutes_as_design_md_says() -> None:
    result = erlang_c(6, 20.4, 15)
    assert result.utilization == pytest.approx(0.85)
    assert result.mean_wait_minutes == pytest.approx(10.40, abs=0.005)


def test_call_centre_example_10_erlangs_matches_published_table() -> None:
    # 100 calls per half hour, 180 s handling time, 20 s target (Call Centre Helper's worked
    # example): 11 agents wait 68.21%, service level 39.0%; 14 agents reach 88.8%.
    eleven = erlang_c(11, 200, 3)
    assert eleven.probability_of_waiting == pytest.approx(0.6821, abs=5e-5)
    assert eleven.service_level(20 / 60) == pytest.approx(0.390, abs=5e-4)
    fourteen = erlang_c(14, 200, 3)
    assert fourteen.probability_of_waiting == pytest.approx(0.1741, abs=5e-5)
    assert fourteen.service_level(20 / 60) == pytest.approx(0.888, abs=5e-4)
    assert counters_needed(200, 3, 20 / 60, 0.80) == 14


def test_westbay_example_360_calls_per_half_hour_with_55_agents() -> None:
    # 360 calls / 30 min, 4 min each, 55 agents, 15 s target: P(wait) 23.87%, ASA 8.2 s, SL 84.6%.
    result = erlang_c(55, 720, 4)
    assert result.load_erlangs == pytest.approx(48)
    assert result.probability_of_waiting == pytest.approx(0.2387, abs=5e-5)
    assert result.mean_wait_minutes * 60 == pytest.approx(8.18, abs=0.005)
    assert result.service_level(0.25) == pytest.approx(0.846, abs=5e-4)


@pytest.mark.parametrize(("counters", "load"), [(2, 1), (3, 2), (6, 5), (30, 25), (90, 80)])
def test_erlang_c_recursion_equals_the_factorial_formula(counters: int, load: int) -> None:
    recursive = erlang_c_probability_of_waiting(counters, float(load))
    assert recursive == pytest.approx(_erlang_c_by_textbook_formula(counters, load), rel=1e-12)


def test_single_counter_is_mm1() -> None:
    result = erlang_c(1, 3, 15)  # ρ = 0.75
    assert result.probability_of_waiting == pytest.approx(0.75)
    assert result.mean_wait_minutes == pytest.approx(0.75 / 0.25 * 15)


def test_erlang_b_stays_finite_for_thousands_of_counters() -> None:
    blocking = erlang_b(5000, 4900.0)
    assert 0 < blocking < 0.05
    assert math.isfinite(erlang_c(5000, 4900 * 4, 15).mean_wait_minutes)


def test_erlang_b_textbook_value() -> None:
    # Classic Erlang B table: 10 trunks at 5 Erlangs block 1.84%.
    assert erlang_b(10, 5.0) == pytest.approx(0.01838, abs=1e-5)


def test_overloaded_queue_reports_infinite_wait() -> None:
    result = erlang_c(5, 20.4, 15)
    assert result.probability_of_waiting == 1.0
    assert math.isinf(result.mean_wait_minutes)
    assert result.service_level(15) == 0.0


def test_p90_wait_inverts_the_service_level() -> None:
    result = erlang_c(6, 20.4, 15)
    p90 = result.wait_quantile_minutes(0.9)
    assert result.service_level(p90) == pytest.approx(0.9)
    assert result.wait_quantile_minutes(0.2) == 0.0  # 37.6% are called at once


def test_counters_needed_for_80_percent_within_15_minutes() -> None:
    needed = counters_needed(20.4, 15, 15, 0.8)
    assert erlang_c(needed, 20.4, 15).service_level(15) >= 0.8
    assert erlang_c(needed - 1, 20.4, 15).service_level(15) < 0.8
    assert needed == 7


@pytest.mark.parametrize(
    ("arrivals", "service", "target", "level"),
    [(0, 15, 15, 0.8), (20, -1, 15, 0.8), (20, 15, -1, 0.8), (20, 15, 15, 1.0)],
)
def test_counters_needed_rejects_nonsense(
    arrivals: float, service: float, target: float, level: float
) -> None:
    with pytest.raises(ValueError, match="must be"):
        counters_needed(arrivals, service, target, level)


def test_erlang_a_with_endless_patience_is_erlang_c() -> None:
    patient = erlang_a(6, 20.4, 15, patience_minutes=1e9)
    exact = erlang_c(6, 20.4, 15)
    assert patient.probability_of_waiting == pytest.approx(exact.probability_of_waiting, rel=1e-6)
    assert patient.mean_wait_minutes == pytest.approx(exact.mean_wait_minutes, rel=1e-6)
    assert patient.probability_of_abandoning == pytest.approx(0, abs=1e-6)


def test_erlang_a_with_patience_equal_to_service_is_a_poisson_count() -> None:
    # With θ = μ every customer in the building leaves at rate μ whether served or not: the
    # number present is Poisson(a) exactly, the M/M/∞ law.
    from scipy.stats import poisson  # only here: scipy.stats costs a process ~0.4 s CPU to import

    load = 5.1
    result = erlang_a(6, 20.4, 15, patience_minutes=15)
    assert result.probability_of_waiting == pytest.approx(poisson.sf(5, load), rel=1e-10)
    expected_queue = sum((n - 6) * poisson.pmf(n, load) for n in range(7, 200))
    assert result.mean_queue_length == pytest.approx(expected_queue, rel=1e-10)
    assert result.probability_of_abandoning == pytest.approx(expected_queue / load, rel=1e-10)


def test_erlang_a_is_stable_when_overloaded() -> None:
    result = erlang_a(5, 30, 15, patience_minutes=10)  # a = 7.5 on 5 counters
    assert 0.3 < result.probability_of_abandoning < 1
    # Conservation: served work = a·(1 − P(abandon)) = busy counters.
    assert result.utilization * 5 == pytest.approx(7.5 * (1 - result.probability_of_abandoning))


def test_mixed_demand_adds_the_booked_load_to_the_walk_in_counters() -> None:
    from madoguchi.planning.queueing import counters_for_mixed_demand

    walkins = counters_needed(12, 20, 20, 0.8)
    # 9 booked an hour × 20 min = 3 Erlangs: three counters on top of the walk-ins' answer
    assert (
        counters_for_mixed_demand(
            booked_per_hour=9,
            walkin_per_hour=12,
            service_minutes=20,
            target_wait_minutes=20,
            service_level=0.8,
        )
        == walkins + 3
    )
    assert (
        counters_for_mixed_demand(
            booked_per_hour=0,
            walkin_per_hour=0,
            service_minutes=20,
            target_wait_minutes=20,
            service_level=0.8,
        )
        == 0
    )
    # a fractional booked load is rounded up: 1.1 Erlangs need two counters
    assert (
        counters_for_mixed_demand(
            booked_per_hour=3.3,
            walkin_per_hour=0,
            service_minutes=20,
            target_wait_minutes=20,
            service_level=0.8,
        )
        == 2
    )
