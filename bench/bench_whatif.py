"""What-if answers on the planning page: a year ahead for the demo city in under 2 seconds.

Builds the demo city (100,000 synthetic residents) in a throw-away SQLite database, then times
the planning page as a manager's browser asks for it: the first request (register scanned into
the expiry cube), and what-if requests after it (the cube is reused). Baseline from the same run:
the bare forecast from the cached cube, and the calendar capacity computation alone.

    .venv/bin/python bench/bench_whatif.py [--residents N] [--repeat K]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from children import django_on_throwaway_sqlite, signed_in_client
from smoke import size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=size(100_000, 5_000))
    parser.add_argument("--repeat", type=int, default=size(5, 1))
    args = parser.parse_args()

    django_on_throwaway_sqlite("madoguchi-bench-whatif-")

    from madoguchi.core import clock
    from madoguchi.demo.city import build_demo_city
    from madoguchi.forecasts.selectors import monthly_counter_hours, municipality_forecast
    from madoguchi.offices.models import Site, SiteKind

    today = clock.today()
    start = today.replace(day=1)
    summary = build_demo_city(residents=args.residents, seed=1, today=today)
    client = signed_in_client("demo-manager")
    main_office = Site.objects.get(municipality=summary.municipality, kind=SiteKind.MAIN_OFFICE)

    def timed(fn) -> float:  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        fn()
        return time.perf_counter() - began

    responses = []
    first_page = timed(lambda: responses.append(client.get("/staff/planning/")))
    assert responses[0].status_code == 200  # the timed page is the real page, not a redirect
    params = {
        "months": 12,
        "take_up": 90,
        "site": main_office.pk,
        "saturday_counters": 4,
        "extra_counters": 1,
    }
    whatif = [timed(lambda: client.get("/staff/planning/", params)) for _ in range(args.repeat)]
    forecast = [
        timed(lambda: municipality_forecast(summary.municipality, start=start, months=12))
        for _ in range(args.repeat)
    ]
    capacity = [
        timed(lambda: monthly_counter_hours(summary.municipality, start=start, months=12))
        for _ in range(args.repeat)
    ]
    median_whatif = statistics.median(whatif)
    floor = statistics.median(forecast) + statistics.median(capacity)
    rows = [
        ("forecast from cached cube (baseline)", statistics.median(forecast)),
        ("calendar capacity, 12 months (baseline)", statistics.median(capacity)),
        ("planning page, first request (scans register)", first_page),
        ("planning page with what-if, median", median_whatif),
    ]
    lines = [
        f"residents: {args.residents:,}; repeats: {args.repeat}; machine: {os.cpu_count()} cores",
        "",
        "| measurement | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:.3f} |" for name, seconds in rows],
        f"| what-if page ÷ (forecast + capacity) | {median_whatif / floor:.1f}× |",
        "",
        f"target: what-if answered in ≤ 2 s — {'met' if median_whatif <= 2 else 'NOT met'}",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
