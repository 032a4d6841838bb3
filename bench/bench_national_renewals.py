"""The national renewal table reproduced from public figures, beside the national deck's.

Reads the published cumulative issuance points (docs/data/national-card-issuance-points.csv),
reconstructs monthly card issues by age band under the assumptions of
`madoguchi.planning.national.IssuanceAssumptions` (docs/national-renewals.md), runs the engine's
aggregate mode and prints, per fiscal year, the forecast card and e-certificate renewals against
the deck's table, with the difference. Baseline in the same run: the deck itself. Goal: within
10% for every fiscal year.

    .venv/bin/python bench/bench_national_renewals.py
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import time
from pathlib import Path

from smoke import finish

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from madoguchi.planning.national import (  # noqa: E402
    DECK_TABLE,
    IssuancePoint,
    reconstruct_monthly_issues,
    renewals_by_fiscal_year,
)

POINTS = ROOT / "docs" / "data" / "national-card-issuance-points.csv"
GOAL = 0.10


def read_points(path: Path) -> list[IssuancePoint]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            IssuancePoint(dt.date.fromisoformat(r["date"]), float(r["figure"]), r["kind"])
            for r in csv.DictReader(f)
        ]


def main() -> None:
    points = read_points(POINTS)
    start = time.perf_counter()
    rows = renewals_by_fiscal_year(points, sorted(DECK_TABLE))
    seconds = time.perf_counter() - start
    monthly = reconstruct_monthly_issues(points, until=dt.date(2024, 4, 1))
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
    finish(met)


if __name__ == "__main__":
    main()
