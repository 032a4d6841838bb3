"""The demo city's histories follow the national waves: its register as it stood on 2025-04-01
forecasts FY2025–FY2027 renewals per resident within 15% of the national table ÷ population."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from madoguchi.planning.demand import (
    DemandOptions,
    RegisterColumns,
    build_expiry_cube,
    cube_range_for,
    forecast_demand,
)
from madoguchi.planning.national import DECK_TABLE, PUBLISHED_POINTS, IssuancePoint
from madoguchi.planning.synthetic import generate_synthetic_register

NATIONAL_POPULATION = 124e6
AS_OF = dt.date(2025, 4, 1)
POINTS_FILE = (
    Path(__file__).resolve().parents[2] / "docs" / "data" / "national-card-issuance-points.csv"
)


def _per_resident_by_fiscal_year(residents: int, seed: int) -> dict[int, tuple[float, float]]:
    register = generate_synthetic_register(people=residents, seed=seed, as_of=AS_OF)
    first, last = cube_range_for(AS_OF, 36)
    cube = build_expiry_cube(
        [RegisterColumns(register.birth_day, register.card_issued_day, register.cert_issued_day)],
        first_day=first,
        last_day=last,
        workers=1,
    )
    forecast = forecast_demand(cube, start=AS_OF, months=36, options=DemandOptions(take_up=1.0))
    out = {}
    for index, fiscal_year in enumerate((2025, 2026, 2027)):
        months = slice(12 * index, 12 * index + 12)
        out[fiscal_year] = (
            float(forecast.card_renewals[months].sum()) / residents,
            float(forecast.cert_renewals[months].sum()) / residents,
        )
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_the_demo_register_of_2025_04_01_forecasts_national_renewals_per_resident(
    seed: int,
) -> None:
    # The demo's own size (100,000 residents); seed 1 is the demo's default.
    forecast = _per_resident_by_fiscal_year(100_000, seed)
    for fiscal_year, (cards, certs) in forecast.items():
        deck_cards, deck_certs = DECK_TABLE[fiscal_year]
        national_cards = deck_cards * 1e6 / NATIONAL_POPULATION
        national_certs = deck_certs * 1e6 / NATIONAL_POPULATION
        assert abs(cards / national_cards - 1) <= 0.15, (fiscal_year, cards, national_cards)
        assert abs(certs / national_certs - 1) <= 0.15, (fiscal_year, certs, national_certs)
    # the wave's shape: FY2025 is the card peak, FY2027 the certificate peak
    assert forecast[2025][0] > 1.5 * forecast[2026][0]
    assert forecast[2027][1] > forecast[2025][1]


def test_the_built_in_national_figures_are_the_published_file() -> None:
    with POINTS_FILE.open(encoding="utf-8", newline="") as f:
        published = [
            IssuancePoint(dt.date.fromisoformat(r["date"]), float(r["figure"]), r["kind"])
            for r in csv.DictReader(f)
        ]
    assert list(PUBLISHED_POINTS) == published


def test_card_issue_months_follow_the_national_campaigns() -> None:
    register = generate_synthetic_register(people=50_000, seed=3, as_of=AS_OF)
    issued = register.card_issued_day[register.card_issued_day >= 0]
    months = issued.astype("datetime64[D]").astype("datetime64[M]")
    quiet = np.sum(months < np.datetime64("2020-01"))
    campaigns = np.sum((months >= np.datetime64("2020-01")) & (months < np.datetime64("2023-07")))
    assert campaigns > 3 * quiet
