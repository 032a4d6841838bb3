"""The staffing page shows the kept plan: it answers in < 500 ms without solving.

Builds the demo city in a throw-away SQLite database, solves the policy's staffing plan once
with `madoguchi solve-staffing` (timed: what every page request used to cost), then times the
staffing page as a manager's browser asks for it, against a baseline page of the same run (the
staff menu, `/staff/`), and the claim CSV read from the kept plan.

    .venv/bin/python bench/bench_staffing_page.py [--residents N] [--repeat K]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time

from children import django_on_throwaway_sqlite, signed_in_client
from smoke import finish, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=size(100_000, 2_000))
    parser.add_argument("--repeat", type=int, default=size(9, 2))
    args = parser.parse_args()

    django_on_throwaway_sqlite("madoguchi-bench-staffing-")
    from django.core.management import call_command

    from madoguchi.core import clock
    from madoguchi.demo.city import build_demo_city

    build_demo_city(residents=args.residents, seed=1, today=clock.today())
    client = signed_in_client("demo-manager")

    def timed(path: str) -> float:
        began = time.perf_counter()
        response = client.get(path)
        seconds = time.perf_counter() - began
        assert response.status_code == 200, (path, response.status_code)
        return seconds

    began = time.perf_counter()
    call_command("solve_staffing", stdout=io.StringIO())
    solve = time.perf_counter() - began
    page = client.get("/staff/planning/staffing/").content.decode()
    assert "<svg" in page and "入力が変わりました" not in page  # the kept, current plan

    baseline = [timed("/staff/") for _ in range(args.repeat)]
    staffing = [timed("/staff/planning/staffing/") for _ in range(args.repeat)]
    claim = [timed("/staff/planning/staffing/claim.csv") for _ in range(args.repeat)]
    median_page = statistics.median(staffing)
    rows = [
        ("staff menu /staff/ (baseline page), median", statistics.median(baseline)),
        ("solve-staffing: build + solve + keep (the old per-request cost)", solve),
        ("staffing page from the kept plan, median", median_page),
        ("staffing page from the kept plan, worst", max(staffing)),
        ("claim CSV from the kept plan, median", statistics.median(claim)),
    ]
    met = median_page < 0.5
    lines = [
        f"residents: {args.residents:,}; repeats: {args.repeat}; machine: {os.cpu_count()} cores",
        "",
        "| measurement | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:.3f} |" for name, seconds in rows],
        f"| staffing page ÷ baseline page | {median_page / statistics.median(baseline):.1f}× |",
        f"| old per-request solve ÷ staffing page | {solve / median_page:.1f}× |",
        "",
        f"target: staffing page < 0.5 s — {'met' if met else 'NOT met'}",
    ]
    print("\n".join(lines))
    finish(met)


if __name__ == "__main__":
    main()
