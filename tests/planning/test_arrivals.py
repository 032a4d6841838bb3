"""Expected arrivals: weekly applications spread over the production-lag distribution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.planning.arrivals import (
    DEFAULT_LAG_WEIGHTS,
    LagError,
    expected_arrivals,
    lag_vector,
    parse_lag_weights,
)


def test_one_week_of_applications_arrives_as_the_lag_says() -> None:
    projection = expected_arrivals([1000], {4: 0.5, 5: 0.5})
    assert projection.arrivals.tolist() == [0, 0, 0, 0, 500, 500]


def test_the_default_lag_is_a_distribution_of_about_a_month_up_to_two() -> None:
    vector = lag_vector(DEFAULT_LAG_WEIGHTS)
    assert vector.sum() == pytest.approx(1.0)
    assert int(np.argmax(vector)) == 4
    assert vector.size - 1 == 8


@given(st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=60))
def test_every_application_arrives_somewhere(counts: list[int]) -> None:
    projection = expected_arrivals(counts)
    assert projection.total == pytest.approx(sum(counts))
    assert projection.arrivals.size == len(counts) + 8
    assert np.all(projection.arrivals >= 0)


def test_weeks_fed_by_unknown_applications_are_marked_incomplete() -> None:
    projection = expected_arrivals([100] * 10, {2: 0.5, 3: 0.5})
    # week w is fed by weeks w-3 and w-2: complete for 3 ≤ w ≤ 11 (last data week 9, + 2)
    assert projection.complete.tolist() == [w in range(3, 12) for w in range(13)]
    # inside the complete weeks a steady flow arrives at its own rate
    assert projection.arrivals[3:12].tolist() == [100.0] * 9
    # at the edges only part of the flow is known: a lower bound
    assert projection.arrivals[12] == 50.0 and projection.arrivals[2] == 50.0


def test_a_short_series_may_have_no_complete_week() -> None:
    projection = expected_arrivals([10, 10], {0: 0.5, 5: 0.5})
    assert not projection.complete.any()
    assert projection.total == 20


def test_no_applications_means_no_arrivals() -> None:
    projection = expected_arrivals([])
    assert projection.arrivals.size == 0 and projection.total == 0


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({}, "空"),
        ({4: 0.5, 5: 0.4}, "合計が1になりません"),
        ({4: 1.2, 5: -0.2}, "0 以上"),
        ({-1: 1.0}, "整数"),
        ({60: 1.0}, "整数"),
        ({4: float("nan"), 5: 1.0}, "0 以上"),
    ],
)
def test_bad_lag_weights_are_refused(weights: dict[int, float], message: str) -> None:
    with pytest.raises(LagError, match=message):
        expected_arrivals([1], weights)


def test_lag_weights_are_read_from_the_command_line_form() -> None:
    assert parse_lag_weights("4:0.4, 5:0.3,6:0.3") == {4: 0.4, 5: 0.3, 6: 0.3}
    with pytest.raises(LagError, match="読めません"):
        parse_lag_weights("4=0.4")
    with pytest.raises(LagError, match="2回"):
        parse_lag_weights("4:0.5,4:0.5")
    with pytest.raises(LagError, match="合計"):
        parse_lag_weights("4:0.5")


def test_negative_application_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        expected_arrivals([10, -1])
