"""The roll-up page reads the kept reports: a view builds no municipality's report.

Builds the demo cities (two municipalities on one deployment) in a throw-away SQLite database,
then times the roll-up page as the roll-up account's browser asks for it, in one run:
- every report built on every view (the kept reports deleted before each request: what every
  view cost before the reports were kept);
- from the kept reports (the second and later views; inputs unchanged);
- after one counter is added to one city (that city's report is rebuilt, the other's is read);
and a baseline page of the same run (the staff menu, `/staff/`, as the manager).

    .venv/bin/python bench/bench_rollup_page.py [--residents N] [--repeat K]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from children import django_on_throwaway_sqlite, signed_in_client
from smoke import finish, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=size(50_000, 1_000))
    parser.add_argument("--repeat", type=int, default=size(7, 2))
    args = parser.parse_args()

    django_on_throwaway_sqlite("madoguchi-bench-rollup-")

    from madoguchi.core import clock
    from madoguchi.demo.city import DEMO_CITIES, build_demo_city
    from madoguchi.forecasts.models import KeptReport
    from madoguchi.offices.models import Counter, Site

    for seed, city in enumerate(DEMO_CITIES[:2], start=1):
        build_demo_city(residents=args.residents, seed=seed, today=clock.today(), city=city)
    client = signed_in_client("demo-rollup")
    manager = signed_in_client("demo-manager")  # the roll-up account may open only the roll-up

    def timed(path: str, as_whom: object = client) -> float:
        began = time.perf_counter()
        response = as_whom.get(path)  # type: ignore[attr-defined]
        seconds = time.perf_counter() - began
        assert response.status_code == 200, (path, response.status_code)
        return seconds

    timed("/staff/planning/rollup/")  # the process's first request (URLs, per-process caches)
    baseline = [timed("/staff/", manager) for _ in range(args.repeat)]
    rebuilt = []
    for _ in range(args.repeat):
        KeptReport.objects.all().delete()
        rebuilt.append(timed("/staff/planning/rollup/"))
    kept = [timed("/staff/planning/rollup/") for _ in range(args.repeat)]
    site = Site.objects.order_by("pk").first()
    assert site is not None
    one_changed = []
    for n in range(args.repeat):
        Counter.objects.create(site=site, name=f"計測{n}")
        one_changed.append(timed("/staff/planning/rollup/"))
    median_rebuilt, median_kept = statistics.median(rebuilt), statistics.median(kept)
    rows = [
        ("staff menu /staff/ (baseline page), median", statistics.median(baseline)),
        ("roll-up, every report built on each view (before), median", median_rebuilt),
        ("roll-up from the kept reports, median", median_kept),
        ("roll-up from the kept reports, worst", max(kept)),
        ("roll-up after one city's counter changed, median", statistics.median(one_changed)),
    ]
    met = median_kept * 4 < median_rebuilt
    lines = [
        f"municipalities: 2; residents each: {args.residents:,}; repeats: {args.repeat}; "
        f"machine: {os.cpu_count()} cores",
        "",
        "| measurement | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:.3f} |" for name, seconds in rows],
        f"| built on each view ÷ kept | {median_rebuilt / median_kept:.1f}× |",
        f"| kept ÷ baseline page | {median_kept / statistics.median(baseline):.1f}× |",
        "",
        "target: the kept roll-up at least 4× faster than building — "
        + ("met" if met else "NOT met"),
    ]
    print("\n".join(lines))
    finish(met)


if __name__ == "__main__":
    main()
