"""All the counter work from renewals: applications at the counter, 申請時来庁 cards mailed (no
hand-over visit), hand-overs after the production lag, set-up and notices per delivered card."""

from __future__ import annotations

import numpy as np
import pytest

from madoguchi.planning.workload import (
    WORK_KINDS,
    WorkKind,
    WorkloadParameters,
    weekly_workload,
)

MINUTES = {
    "card_pickup": (20, True),
    "cert_renewal": (10, True),
    "application": (15, False),
    "application_in_person": (20, False),
    "pin_reset": (10, True),
    "other_visit": (10, False),
    "setup": (5, True),
    "notice": (2, False),
}
KINDS = {kind: WorkKind(float(m), t) for kind, (m, t) in MINUTES.items()}


def _parameters(**overrides: object) -> WorkloadParameters:
    values: dict[str, object] = {
        "kinds": KINDS,
        "counter_application_share": 0.2,
        "apply_in_person_share": 0.25,
        "new_cards_per_week": 10.0,
        "pin_resets_per_week": 3.0,
        "other_visits_per_week": 2.0,
        "lag_weights": {4: 0.5, 6: 0.5},
    }
    values.update(overrides)
    return WorkloadParameters(**values)


def test_a_week_of_applications_comes_back_as_cards_after_the_lag() -> None:
    cards = np.zeros(20)
    cards[2] = 100
    load = weekly_workload(cards, np.zeros(20), _parameters(new_cards_per_week=0.0))
    # applications in their week: 20 % at a counter, a quarter of those 申請時来庁
    assert load.counts["application"][2] == pytest.approx(15)
    assert load.counts["application_in_person"][2] == pytest.approx(5)
    # the cards arrive 4 and 6 weeks later; every one is set up and gets a notice or is mailed
    assert load.counts["setup"][6] == pytest.approx(50) and load.counts["setup"][8] == 50
    assert load.counts["notice"].sum() == pytest.approx(100)
    # the five mailed cards (申請時来庁) never come to the counter
    assert load.counts["card_pickup"].sum() == pytest.approx(95)
    assert load.counts["card_pickup"][:6].sum() == 0


def test_all_applying_in_person_leaves_no_hand_over_visit() -> None:
    load = weekly_workload(
        np.full(12, 50.0),
        np.zeros(12),
        _parameters(counter_application_share=1.0, apply_in_person_share=1.0),
    )
    assert load.counts["card_pickup"].sum() == 0
    assert load.counts["application"].sum() == 0
    assert load.counts["application_in_person"].sum() == pytest.approx(12 * 60)
    assert load.counts["notice"].sum() > 0  # the mailing is still back-office work


def test_hours_follow_each_kinds_minutes_and_terminal() -> None:
    load = weekly_workload(np.full(12, 30.0), np.full(12, 40.0), _parameters(), warm_up_weeks=6)
    assert load.weeks == 6
    week = 0
    counts = {kind: load.counts[kind][week] for kind in WORK_KINDS}
    expected_counter = sum(counts[k] * MINUTES[k][0] for k in WORK_KINDS[:6]) / 60
    assert load.counter_hours[week] == pytest.approx(expected_counter)
    assert load.back_office_hours[week] == pytest.approx(counts["setup"] * 7 / 60)
    terminal = sum(counts[k] * MINUTES[k][0] for k in WORK_KINDS[:6] if MINUTES[k][1]) / 60
    assert load.terminal_hours(counter=True)[week] == pytest.approx(terminal)
    assert load.terminal_hours(counter=False)[week] == pytest.approx(counts["setup"] * 5 / 60)
    # PIN resets, other visits and certificates are visits in their own week
    assert counts["pin_reset"] == 3 and counts["other_visit"] == 2 and counts["cert_renewal"] == 40


def test_the_warm_up_fills_the_first_weeks_with_earlier_applications() -> None:
    steady = np.full(20, 30.0)
    cold = weekly_workload(steady, steady, _parameters())
    warm = weekly_workload(steady, steady, _parameters(), warm_up_weeks=8)
    assert cold.counts["card_pickup"][0] == 0  # nothing applied for before the data
    # after the warm-up every week gets the steady state: 40 applications a week come back
    assert warm.counts["setup"] == pytest.approx(np.full(12, 40.0))
    assert warm.counts["card_pickup"] == pytest.approx(np.full(12, 40.0 * (1 - 0.2 * 0.25)))


def test_more_minutes_a_card_mean_more_counter_hours() -> None:
    quick = weekly_workload(np.full(10, 30.0), np.zeros(10), _parameters(), warm_up_weeks=6)
    slow_kinds = dict(KINDS, card_pickup=WorkKind(40.0, True))
    slow = weekly_workload(
        np.full(10, 30.0), np.zeros(10), _parameters(kinds=slow_kinds), warm_up_weeks=6
    )
    assert slow.hours("card_pickup") == pytest.approx(2 * quick.hours("card_pickup"))


@pytest.mark.parametrize(
    "overrides",
    [
        {"counter_application_share": 1.5},
        {"apply_in_person_share": -0.1},
        {"new_cards_per_week": -1.0},
        {"kinds": {"card_pickup": WorkKind(20.0, True)}},
    ],
)
def test_parameters_out_of_range_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _parameters(**overrides)


def test_negative_minutes_are_refused() -> None:
    with pytest.raises(ValueError):
        WorkKind(-5.0, True)


def test_series_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        weekly_workload(np.zeros(5), np.zeros(6), _parameters())
    with pytest.raises(ValueError):
        weekly_workload(np.zeros(5), np.zeros(5), _parameters(), warm_up_weeks=5)
