"""The roll-up page reads the kept roll-up: a view builds no municipality's report and loads none.

Builds the demo cities (two municipalities on one deployment) and a few small towns (a site,
no residents: the roll-up of a prefecture has dozens of municipalities) in a throw-away SQLite
database, then times the roll-up page as the roll-up account's browser asks for it, in one run:
- every report built on every view (the kept reports and roll-up deleted before each request:
  what every view cost before the reports were kept);
- from the kept roll-up (the second and later views; inputs unchanged);
- from the kept reports, loaded and summed on each view (the kept roll-up deleted before each
  request: what every view did before `rollup.kept_rollup`);
- after one counter is added to one city (that city's report is rebuilt, the other's is read);
- each municipality's input digest taken on its own (a few dozen queries per municipality, what
  every view did before `report_inputs_digests`) against all of them at once (one query per
  table), the digest step alone, with query counts;
- with 2, 7 and 50 municipalities (`--scale`): a kept view (the quick digest only) and a view
  that checks the municipalities' inputs again (what one view in `rollup.FIGURES_MAX_AGE`
  does, and what every kept view did before `rollup_inputs`), seconds and statements;
and a baseline page of the same run (the staff menu, `/staff/`, as the manager).

    .venv/bin/python bench/bench_rollup_page.py [--residents N] [--repeat K] [--towns T]
        [--scale 2,7,50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from children import django_on_throwaway_sqlite, signed_in_client
from smoke import finish, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=size(50_000, 1_000))
    parser.add_argument("--repeat", type=int, default=size(7, 2))
    parser.add_argument(
        "--towns",
        type=int,
        default=size(10, 2),
        help="small municipalities added beside the two cities (one site, no residents)",
    )
    parser.add_argument(
        "--scale",
        default=size("2,7,50", "2,3,5"),
        help="numbers of municipalities (two cities and towns) to time a kept view with",
    )
    args = parser.parse_args()
    scale = sorted({max(2, int(n)) for n in args.scale.split(",")})

    django_on_throwaway_sqlite("madoguchi-bench-rollup-")

    from django.db import connection
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext

    from madoguchi.core import clock
    from madoguchi.core.validators import municipality_code_check_digit
    from madoguchi.demo.city import DEMO_CITIES, build_demo_city
    from madoguchi.forecasts import report_cache
    from madoguchi.forecasts.models import KeptReport, KeptRollup
    from madoguchi.forecasts.rollup import FIGURES_MAX_AGE, kept_rollup_view
    from madoguchi.offices.models import Counter, Municipality, Site, SiteKind

    for seed, city in enumerate(DEMO_CITIES[:2], start=1):
        build_demo_city(residents=args.residents, seed=seed, today=clock.today(), city=city)

    def towns_up_to(total: int) -> None:
        """Add small towns until the deployment has `total` municipalities."""
        for n in range(Municipality.objects.count() - 2, total - 2):
            first_five = f"{98000 + n:05d}"  # no real municipality has these codes
            town = Municipality.objects.create(
                code=first_five + str(municipality_code_check_digit(first_five)),
                name=f"計測町{n + 1}",
            )
            Site.objects.create(
                municipality=town, name="役場", kind=SiteKind.MAIN_OFFICE, address="-"
            )

    client = signed_in_client("demo-rollup")
    manager = signed_in_client("demo-manager")  # the roll-up account may open only the roll-up

    def seconds_of(step: Callable[[], None]) -> float:
        began = time.perf_counter()
        step()
        return time.perf_counter() - began

    def timed(path: str, as_whom: object = client) -> float:
        began = time.perf_counter()
        response = as_whom.get(path)  # type: ignore[attr-defined]
        seconds = time.perf_counter() - began
        assert response.status_code == 200, (path, response.status_code)
        return seconds

    timed("/staff/planning/rollup/")  # the process's first request (URLs, per-process caches)

    def statements_of(step: Callable[[], None]) -> int:
        with CaptureQueriesContext(connection) as captured:
            step()
        return len(captured.captured_queries)

    def force_check() -> None:  # as if the municipalities' inputs were checked long ago
        KeptRollup.objects.update(checked_at=F("checked_at") - FIGURES_MAX_AGE)

    def checked_view() -> float:
        force_check()
        return timed("/staff/planning/rollup/")

    by_scale: list[tuple[int, float, int, float, int, float, float]] = []

    def measure_scale() -> None:
        timed("/staff/planning/rollup/")  # built (new towns) and kept
        for _ in range(2):  # warmed up the same way at every size
            timed("/staff/planning/rollup/")
            checked_view()
        kept_times = [timed("/staff/planning/rollup/") for _ in range(args.repeat)]
        kept_statements = statements_of(lambda: timed("/staff/planning/rollup/"))
        checked_times = [checked_view() for _ in range(args.repeat)]
        force_check()
        checked_statements = statements_of(lambda: timed("/staff/planning/rollup/"))
        read_alone = [seconds_of(kept_rollup_view) for _ in range(args.repeat)]

        def checked_alone() -> float:
            force_check()
            return seconds_of(kept_rollup_view)

        checked_read = [checked_alone() for _ in range(args.repeat)]
        by_scale.append(
            (
                Municipality.objects.count(),
                statistics.median(kept_times),
                kept_statements,
                statistics.median(checked_times),
                checked_statements,
                statistics.median(read_alone),
                statistics.median(checked_read),
            )
        )

    main_total = 2 + args.towns
    for total in [n for n in scale if n < main_total]:
        towns_up_to(total)
        measure_scale()
    towns_up_to(main_total)
    if main_total in scale:
        measure_scale()
    baseline = [timed("/staff/", manager) for _ in range(args.repeat)]
    rebuilt = []
    for _ in range(args.repeat):
        KeptReport.objects.all().delete()
        KeptRollup.objects.all().delete()
        rebuilt.append(timed("/staff/planning/rollup/"))
    kept = [timed("/staff/planning/rollup/") for _ in range(args.repeat)]
    site = Site.objects.order_by("pk").first()
    assert site is not None
    one_changed = []
    for n in range(args.repeat):
        Counter.objects.create(site=site, name=f"計測{n}")
        one_changed.append(timed("/staff/planning/rollup/"))
    timed("/staff/planning/rollup/")  # the change kept

    timed("/staff/planning/rollup/")
    summed = []
    for _ in range(args.repeat):
        KeptRollup.objects.all().delete()
        summed.append(timed("/staff/planning/rollup/"))

    ids = list(Municipality.objects.values_list("pk", flat=True))
    today = clock.today()

    def digests_alone() -> None:
        for pk in ids:
            report_cache.report_inputs_digests([pk], today=today)

    def digests_together() -> None:
        report_cache.report_inputs_digests(ids, today=today)

    step_alone = [seconds_of(digests_alone) for _ in range(args.repeat)]
    step_together = [seconds_of(digests_together) for _ in range(args.repeat)]
    queries = {}
    for name, step in (("alone", digests_alone), ("together", digests_together)):
        with CaptureQueriesContext(connection) as captured:
            step()
        queries[name] = len(captured.captured_queries)
    for total in [n for n in scale if n > main_total]:
        towns_up_to(total)
        measure_scale()
    median_rebuilt, median_kept = statistics.median(rebuilt), statistics.median(kept)
    median_summed = statistics.median(summed)
    step_ratio = statistics.median(step_alone) / statistics.median(step_together)
    rows = [
        ("staff menu /staff/ (baseline page), median", statistics.median(baseline)),
        ("roll-up, every report built on each view (before), median", median_rebuilt),
        ("roll-up from the kept roll-up, median", median_kept),
        ("roll-up from the kept roll-up, worst", max(kept)),
        ("roll-up from the kept reports, loaded and summed on each view, median", median_summed),
        ("roll-up after one city's counter changed, median", statistics.median(one_changed)),
        ("the digests alone, one municipality at a time, median", statistics.median(step_alone)),
        ("the digests alone, all at once, median", statistics.median(step_together)),
    ]
    met = median_kept * 4 < median_rebuilt
    same_statements = len({row[2] for row in by_scale}) == 1
    lines = [
        f"municipalities: 2 cities ({args.residents:,} residents each) and {args.towns} towns "
        f"(one site, no residents); repeats: {args.repeat}; "
        f"machine: {os.cpu_count()} cores",
        "",
        "| measurement | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:.3f} |" for name, seconds in rows],
        f"| built on each view ÷ kept | {median_rebuilt / median_kept:.1f}× |",
        f"| kept ÷ baseline page | {median_kept / statistics.median(baseline):.1f}× |",
        f"| kept reports summed on each view ÷ kept roll-up | {median_summed / median_kept:.2f}× |",
        f"| digests, one at a time ÷ all at once | {step_ratio:.2f}× |",
        f"| queries for the digests, one at a time / all at once | "
        f"{queries['alone']} / {queries['together']} |",
        "",
        "| municipalities | kept view, median s | its statements | view checking the "
        "municipalities' inputs, median s | its statements | the kept roll-up read alone "
        "(no page), median s | read after checking the inputs, median s |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {n} | {kept_s:.3f} | {kept_q} | {checked_s:.3f} | {checked_q} "
            f"| {read_s:.4f} | {checked_read_s:.4f} |"
            for n, kept_s, kept_q, checked_s, checked_q, read_s, checked_read_s in by_scale
        ],
        f"| {by_scale[-1][0]} ÷ {by_scale[0][0]} | {by_scale[-1][1] / by_scale[0][1]:.2f}× | "
        f"| {by_scale[-1][3] / by_scale[0][3]:.2f}× | | {by_scale[-1][5] / by_scale[0][5]:.2f}× "
        f"| {by_scale[-1][6] / by_scale[0][6]:.2f}× |",
        "",
        "target: the kept roll-up at least 4× faster than building — "
        + ("met" if met else "NOT met"),
        "target: a kept view's statements the same however many municipalities — "
        + ("met" if same_statements else "NOT met"),
        "target: the digests taken at once in fewer queries than one at a time — "
        + ("met" if queries["together"] < queries["alone"] else "NOT met"),
    ]
    print("\n".join(lines))
    finish(met and queries["together"] < queries["alone"] and same_statements)


if __name__ == "__main__":
    main()
