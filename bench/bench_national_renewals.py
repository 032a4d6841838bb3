"""The national renewal table reproduced from public figures, beside the national deck's.

Reads the published cumulative issuance figures (docs/data/national-card-issuance-points.csv and
national-card-issuance-more-points.csv), reconstructs monthly card issues by age band under
`madoguchi.planning.national.NATIONAL_ASSUMPTIONS` (each with its source in
docs/national-renewals.md), runs the engine's aggregate mode and prints, per fiscal year, the
forecast card and e-certificate renewals against the deck's table, with the difference. Then the
same table's differences as the public facts are added one at a time, from the previous table
(the seed's 11 figures, no deaths, minors' uptake calibrated to the deck). Baseline in the same
run: the deck itself. Goal: within 10% for every fiscal year.

    .venv/bin/python bench/bench_national_renewals.py
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import sys
import time
from pathlib import Path

from smoke import finish

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from madoguchi.planning.national import (  # noqa: E402
    DECK_TABLE,
    NATIONAL_ASSUMPTIONS,
    IssuanceAssumptions,
    IssuancePoint,
    reconstruct_monthly_issues,
    renewals_by_fiscal_year,
)

DATA = ROOT / "docs" / "data"
SEED_POINTS = DATA / "national-card-issuance-points.csv"
MORE_POINTS = DATA / "national-card-issuance-more-points.csv"
GOAL = 0.10


def read_points(path: Path) -> list[IssuancePoint]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            IssuancePoint(dt.date.fromisoformat(r["date"]), float(r["figure"]), r["kind"])
            for r in csv.DictReader(f)
        ]


def differences(
    points: list[IssuancePoint], assumptions: IssuanceAssumptions
) -> list[tuple[float, float]]:
    rows = renewals_by_fiscal_year(points, sorted(DECK_TABLE), assumptions=assumptions)
    return [
        (r.cards / DECK_TABLE[r.fiscal_year][0] - 1, r.certs / DECK_TABLE[r.fiscal_year][1] - 1)
        for r in rows
    ]


def main() -> None:
    seed = read_points(SEED_POINTS)
    points = seed + read_points(MORE_POINTS)
    start = time.perf_counter()
    rows = renewals_by_fiscal_year(points, sorted(DECK_TABLE), assumptions=NATIONAL_ASSUMPTIONS)
    seconds = time.perf_counter() - start
    monthly = reconstruct_monthly_issues(
        points, until=dt.date(2024, 4, 1), assumptions=NATIONAL_ASSUMPTIONS
    )
    print(f"National renewals from {len(points)} public figures ({seconds:.2f} s), millions")
    print("reconstructed cards issued per calendar year:")
    print(
        "  "
        + "  ".join(
            f"{y} {monthly[(y - 2016) * 12 : (y - 2015) * 12].sum():.1f}" for y in range(2016, 2024)
        )
    )
    print(f"{'FY':<6}{'cards':>8}{'deck':>7}{'diff':>8}{'e-certs':>10}{'deck':>7}{'diff':>8}")
    worst = 0.0
    for row in rows:
        cards, certs = DECK_TABLE[row.fiscal_year]
        dc, de = row.cards / cards - 1, row.certs / certs - 1
        worst = max(worst, abs(dc), abs(de))
        print(
            f"{row.fiscal_year:<6}{row.cards:>8.2f}{cards:>7.1f}{dc:>+8.1%}"
            f"{row.certs:>10.2f}{certs:>7.1f}{de:>+8.1%}"
        )
    met = worst <= GOAL
    print(f"worst difference {worst:.1%}; goal ≤ {GOAL:.0%}: {'met' if met else 'MISSED'}")

    calibrated = IssuanceAssumptions()  # the previous table's minors' uptake, no deaths
    steps = [
        ("previous table: 11 seed figures, minors calibrated", seed, calibrated),
        ("+ 9 more published cumulative figures", points, calibrated),
        (
            "+ holders' deaths (2020 death rates)",
            points,
            dataclasses.replace(
                calibrated, death_rates_per_100k=NATIONAL_ASSUMPTIONS.death_rates_per_100k
            ),
        ),
        (
            "+ minors' uptake from the published rates by age (this table)",
            points,
            NATIONAL_ASSUMPTIONS,
        ),
    ]
    years = sorted(DECK_TABLE)
    print("differences to the deck as the facts are added, cards | e-certificates:")
    print(
        f"{'':<64}" + "".join(f"{y:>7}" for y in years) + " |" + "".join(f"{y:>7}" for y in years)
    )
    for name, step_points, assumptions in steps:
        diffs = differences(step_points, assumptions)
        print(
            f"{name:<64}"
            + "".join(f"{c:>+7.1%}" for c, _ in diffs)
            + " |"
            + "".join(f"{e:>+7.1%}" for _, e in diffs)
        )
    finish(met)


if __name__ == "__main__":
    main()
