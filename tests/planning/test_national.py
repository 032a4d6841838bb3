"""The national renewal table from public figures (issue: prefecture and national view)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from madoguchi.planning.national import (
    DECK_TABLE,
    IssuancePoint,
    reconstruct_monthly_issues,
    renewals_by_fiscal_year,
)

POINTS_FILE = (
    Path(__file__).resolve().parents[2] / "docs" / "data" / "national-card-issuance-points.csv"
)


def _points() -> list[IssuancePoint]:
    with POINTS_FILE.open(encoding="utf-8", newline="") as f:
        return [
            IssuancePoint(dt.date.fromisoformat(r["date"]), float(r["figure"]), r["kind"])
            for r in csv.DictReader(f)
        ]


def _month(on: dt.date) -> int:
    return (on.year - 2016) * 12 + on.month - 1 + (1 if on.day >= 15 else 0)


def test_the_reconstruction_meets_every_published_cumulative_figure() -> None:
    points = _points()
    monthly = reconstruct_monthly_issues(points, until=dt.date(2025, 4, 1))
    cumulative = np.concatenate([[0.0], np.cumsum(monthly)])
    issued = [p for p in points if p.kind == "issued"]
    assert len(issued) == 6
    for point in issued:
        assert cumulative[_month(point.on)] == pytest.approx(point.figure / 1e6, rel=1e-9)


def test_no_month_exceeds_the_published_peak_month() -> None:
    points = _points()
    monthly = reconstruct_monthly_issues(points, until=dt.date(2025, 4, 1))
    peak = next(p for p in points if p.kind == "issued_in_month")
    assert monthly.max() == pytest.approx(peak.figure / 1e6)
    assert int(np.argmax(monthly)) == _month(dt.date(2023, 3, 1))
    assert (monthly >= 0).all()


def test_the_national_forecast_comes_within_13_percent_of_the_deck_each_year() -> None:
    rows = renewals_by_fiscal_year(_points(), sorted(DECK_TABLE))
    differences = {}
    for row in rows:
        cards, certs = DECK_TABLE[row.fiscal_year]
        differences[row.fiscal_year] = (row.cards / cards - 1, row.certs / certs - 1)
    assert all(abs(d) < 0.13 for pair in differences.values() for d in pair), differences
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
