"""The national renewal table from public figures (issue: prefecture and national view)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from madoguchi.planning.national import (
    DEATH_RATES_PER_100K,
    DEATHS_REGISTERED_2020,
    DECK_TABLE,
    MINORS_BELOW_RATE_2021,
    NATIONAL_ASSUMPTIONS,
    POPULATION_BY_BAND_MILLIONS,
    IssuanceAssumptions,
    IssuancePoint,
    issues_by_band,
    reconstruct_monthly_issues,
    renewals_by_fiscal_year,
    survival_by_band,
)

DATA = Path(__file__).resolve().parents[2] / "docs" / "data"
POINTS_FILE = DATA / "national-card-issuance-points.csv"
MORE_POINTS_FILE = DATA / "national-card-issuance-more-points.csv"


def _read(path: Path) -> list[IssuancePoint]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            IssuancePoint(dt.date.fromisoformat(r["date"]), float(r["figure"]), r["kind"])
            for r in csv.DictReader(f)
        ]


def _points() -> list[IssuancePoint]:
    return _read(POINTS_FILE)


def _all_points() -> list[IssuancePoint]:
    return _read(POINTS_FILE) + _read(MORE_POINTS_FILE)


def _month(on: dt.date) -> int:
    return (on.year - 2016) * 12 + on.month - 1 + (1 if on.day >= 15 else 0)


@pytest.mark.parametrize(("points", "count"), [(_points(), 6), (_all_points(), 15)])
def test_the_reconstruction_meets_every_published_cumulative_figure(
    points: list[IssuancePoint], count: int
) -> None:
    monthly = reconstruct_monthly_issues(
        points, until=dt.date(2025, 4, 1), assumptions=NATIONAL_ASSUMPTIONS
    )
    cumulative = np.concatenate([[0.0], np.cumsum(monthly)])
    issued = [p for p in points if p.kind == "issued"]
    assert len(issued) == count
    for point in issued:
        assert cumulative[_month(point.on)] == pytest.approx(point.figure / 1e6, rel=1e-9)


@pytest.mark.parametrize("points", [_points(), _all_points()])
def test_no_month_exceeds_the_published_peak_month(points: list[IssuancePoint]) -> None:
    monthly = reconstruct_monthly_issues(points, until=dt.date(2025, 4, 1))
    peak = next(p for p in points if p.kind == "issued_in_month")
    assert monthly.max() == pytest.approx(peak.figure / 1e6)
    assert int(np.argmax(monthly)) == _month(dt.date(2023, 3, 1))
    assert (monthly >= 0).all()


def test_every_added_figure_names_its_public_source() -> None:
    with MORE_POINTS_FILE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all("https://" in r["source"] and r["note"] for r in rows)
    seed_dates = {p.on for p in _points()}
    assert not seed_dates & {dt.date.fromisoformat(r["date"]) for r in rows}


def test_the_death_rates_give_the_deaths_registered_in_2020() -> None:
    deaths = sum(
        people * 1e6 * rate / 1e5
        for people, rate in zip(POPULATION_BY_BAND_MILLIONS, DEATH_RATES_PER_100K, strict=True)
    )
    assert deaths == pytest.approx(DEATHS_REGISTERED_2020, rel=0.05)


def test_survival_falls_with_age_and_term() -> None:
    ten = survival_by_band(10, DEATH_RATES_PER_100K)
    five = survival_by_band(5, DEATH_RATES_PER_100K)
    assert ten[0] > 0.99 and 0.3 < ten[16] < 0.8  # a child; someone of 80-84 at issue
    assert (np.diff(ten[2:]) < 0).all() and (five >= ten).all()


def _minors_rate_to_average(assumptions: IssuanceAssumptions) -> float:
    """Under-20 bands' cumulative issue rate on 2021-04-01 over all ages' rate (the bands share
    one uptake, so their rates are equal)."""
    monthly = reconstruct_monthly_issues(
        _all_points(), until=dt.date(2021, 4, 1), assumptions=assumptions
    )
    by_band = issues_by_band(monthly, assumptions=assumptions).sum(axis=0)
    population = np.asarray(POPULATION_BY_BAND_MILLIONS) * 1e6
    rates = by_band / population
    return float(rates[:4].max() / (by_band.sum() / population.sum()))


def test_the_national_minors_uptake_keeps_to_the_published_rates_of_2021() -> None:
    below, average = MINORS_BELOW_RATE_2021
    assert _minors_rate_to_average(NATIONAL_ASSUMPTIONS) < below / average


def test_the_rates_check_refuses_the_previously_calibrated_minors_uptake() -> None:
    """The control: the uptake calibrated to the deck (2.0 in 2019–21) gave minors more cards
    than the published rates of April 2021 allow."""
    below, average = MINORS_BELOW_RATE_2021
    assert _minors_rate_to_average(IssuanceAssumptions()) > below / average


def test_deaths_lower_every_years_renewals_and_cards_most() -> None:
    points = _all_points()
    years = sorted(DECK_TABLE)
    alive = dataclasses.replace(NATIONAL_ASSUMPTIONS, death_rates_per_100k=None)
    with_deaths = renewals_by_fiscal_year(points, years, assumptions=NATIONAL_ASSUMPTIONS)
    without = renewals_by_fiscal_year(points, years, assumptions=alive)
    for dead, living in zip(with_deaths, without, strict=True):
        assert dead.cards < living.cards and dead.certs < living.certs
    # FY2025's cards were issued ten years before, its certificates five: cards lose more
    fy2025 = years.index(2025)
    assert (
        with_deaths[fy2025].cards / without[fy2025].cards
        < with_deaths[fy2025].certs / without[fy2025].certs
    )


def test_the_certificates_come_within_12_percent_of_the_deck_each_year() -> None:
    """From public figures alone the e-certificates come close; the cards do not (the deck
    counts more under-20s' cards than the published rates by age allow; see
    docs/national-renewals.md)."""
    rows = renewals_by_fiscal_year(
        _all_points(), sorted(DECK_TABLE), assumptions=NATIONAL_ASSUMPTIONS
    )
    differences = {r.fiscal_year: r.certs / DECK_TABLE[r.fiscal_year][1] - 1 for r in rows}
    assert all(abs(d) < 0.12 for d in differences.values()), differences
    # and the wave's shape: FY2025 is the card peak, FY2027 the certificate peak
    assert max(rows, key=lambda r: r.cards).fiscal_year == 2025
    assert max(rows, key=lambda r: r.certs).fiscal_year == 2027


def test_decreasing_cumulative_figures_are_refused() -> None:
    points = [
        IssuancePoint(dt.date(2016, 3, 27), 2e6, "issued"),
        IssuancePoint(dt.date(2017, 3, 27), 1e6, "issued"),
    ]
    with pytest.raises(ValueError, match="must not decrease"):
        reconstruct_monthly_issues(points, until=dt.date(2018, 1, 1))
