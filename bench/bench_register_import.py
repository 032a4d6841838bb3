"""A 1,000,000-row register imported (`import_register`) on SQLite and on PostgreSQL, and the
planning page of that municipality afterwards.

Baseline from the same run: a raw `csv.reader` pass over the same file. Each backend runs in a
child process against a fresh database (SQLite in a temp dir; PostgreSQL `<db>_bench_register`,
created and dropped, when MADOGUCHI_TEST_DATABASE_URL is set). The child builds the small demo
city (its sites and staff), then replaces its register with the generated file, solves the
staffing plan once (`solve_staffing`, as after every import) and times each planning page of the
1,000,000-resident municipality with a signed-in manager: the dashboard (wave, capacity, counters
for the service level, backlog, holding rates), the dashboard with a what-if, the staffing plan
and its subsidy-claim export as CSV and XLSX — a first request each (it also fills per-process
caches), then PAGE_REPEAT more (median, p95). The dashboard's figures are kept in the database
(`forecasts.dashboard_cache`); the baseline row "planning-computed" deletes them before every
view, so it computes them each time as the dashboard did before they were kept. Targets: import
≤ 60 s on each backend; every page's p95 < 1 s (the baseline row is not judged).
The demo's sites are sized for 200 residents; before solving, the child gives
its three offices counters and terminals for the register's size (one per 25,000 residents at the
main office, one per 70,000 at each branch), so that a plan meeting the wait target — and with it
a claim — exists.

The first request of a fresh server process, measured after each backend's run in two more
fresh processes on the same database: "cold" (Django set up, nothing else — the first request
imports the URL configuration, every view module and the engine) and "preload" (`import
madoguchi.wsgi`, what gunicorn `--preload` — `madoguchi serve` — loads before forking its
workers). Each prints its start-up time and each page's first request.

    .venv/bin/python bench/bench_register_import.py [ROWS]      # BENCH_SMOKE=1: 5,000 rows
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import children
from smoke import finish, size

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else size(1_000_000, 5_000)
PAGE_REPEAT = size(15, 2)
IMPORT_TARGET_SECONDS = 60.0
PAGE_TARGET_SECONDS = 1.0
AREAS = ("中央", "北町", "南台", "東浜", "西山", "")


def write_file(path: Path, rows: int) -> None:
    rng = random.Random(1)
    first = dt.date(1930, 1, 1).toordinal()
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("person_id,birth_date,card_issued_on,cert_issued_on,area\n")
        for i in range(rows):
            born = dt.date.fromordinal(first + rng.randint(0, 34000))
            card = ""
            if rng.random() < 0.79:
                card = max(born, dt.date(2016, 1, 1) + dt.timedelta(days=rng.randint(0, 3900)))
                card = card.isoformat()
            f.write(f"R{i:08d},{born},{card},{card},{AREAS[i % len(AREAS)]}\n")


def baseline(path: Path) -> float:
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as f:
        count = sum(1 for _ in csv.reader(f))
    assert count == ROWS + 1
    return time.perf_counter() - start


CHILD = """
import datetime as dt, io, json, os, sys, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
django.setup()
import time_machine
from django.core.management import call_command
call_command("migrate", verbosity=0)
from madoguchi.core.audit import Actor
from madoguchi.demo.city import build_demo_city
from madoguchi.forecasts.models import KeptDashboard, RegisterSnapshot
from madoguchi.forecasts.register_import import import_register
from madoguchi.offices.models import Site
with time_machine.travel(dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC), tick=True):
    actor = Actor.system("bench")
    town = build_demo_city(residents=200, seed=1, today=dt.date(2026, 11, 26)).municipality
    with open(sys.argv[1], "rb") as f:
        start = time.perf_counter()
        report = import_register(f, file_name="bench.csv", municipality=town, actor=actor)
        seconds = time.perf_counter() - start
    assert report.accepted and report.rows == int(sys.argv[2]), report.lines()[:5]
    with open(sys.argv[1], "rb") as f:
        start = time.perf_counter()
        again = import_register(f, file_name="bench.csv", municipality=town, actor=actor)
        repeat = time.perf_counter() - start
    assert again.accepted and again.unchanged
    assert RegisterSnapshot.objects.get(pk=report.snapshot.pk).rows == int(sys.argv[2])
    from madoguchi.offices.models import Counter, SiteKind, Terminal
    rows = int(sys.argv[2])
    offices = (SiteKind.MAIN_OFFICE, SiteKind.BRANCH_OFFICE)
    for site in Site.objects.filter(municipality=town, kind__in=offices):
        extra = rows // (25_000 if site.kind == SiteKind.MAIN_OFFICE else 70_000)
        Counter.objects.bulk_create(Counter(site=site, name=f"増設{n}") for n in range(extra))
        Terminal.objects.bulk_create(Terminal(site=site, name=f"増設端末{n}") for n in range(extra))
    call_command("solve_staffing", stdout=io.StringIO())  # the staffing page shows a kept plan
    site = Site.objects.filter(municipality=town, is_active=True).order_by("pk").first()
    what_if = (
        "/staff/planning/?months=12&take_up=90&site=%d&extra_counters=1&saturday_counters=1"
        % site.pk
    )
    pages = {
        # the baseline: the dashboard's figures computed for every view (nothing kept)
        "planning-computed": ("/staff/planning/", "更新の見込み"),
        "planning": ("/staff/planning/", "更新の見込み"),
        "what-if": (what_if, "試算の体制"),
        "staffing": ("/staff/planning/staffing/", "計算済みの計画"),  # chart, or why none fits
        "claim.csv": ("/staff/planning/staffing/claim.csv", "合計"),
        "claim.xlsx": ("/staff/planning/staffing/claim.xlsx", None),  # a zip: b"PK"
    }
    from children import signed_in_client
    client = signed_in_client("demo-manager", HTTP_HOST="localhost")
    times = {}
    for name, (path, shows) in pages.items():
        samples = []
        for _ in range(1 + int(sys.argv[3])):  # the first request of each page: not counted
            if name.endswith("-computed"):
                KeptDashboard.objects.all().delete()
            start = time.perf_counter()
            response = client.get(path)
            samples.append(time.perf_counter() - start)
            assert response.status_code == 200, (path, response.status_code)
            if shows is None:
                assert response.content.startswith(b"PK"), path
            else:
                assert shows in response.content.decode("utf-8-sig"), (path, shows)
        times[name] = samples
print(json.dumps({"import": seconds, "repeat": repeat, "pages": times}, separators=(",", ":")))
"""


FIRST_CHILD = """
import datetime as dt, json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
start = time.perf_counter()
if sys.argv[1] == "preload":
    import madoguchi.wsgi  # what gunicorn --preload loads before forking the workers
else:
    from django.core.wsgi import get_wsgi_application
    get_wsgi_application()
started = time.perf_counter() - start
import time_machine
from children import signed_in_client
from madoguchi.offices.models import Site
with time_machine.travel(dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC), tick=True):
    client = signed_in_client("demo-manager", HTTP_HOST="localhost")
    site = Site.objects.filter(is_active=True).order_by("pk").first()
    times = {}
    for name, path in (
        ("planning", "/staff/planning/"),
        ("what-if", "/staff/planning/?months=12&take_up=90&site=%d&extra_counters=1" % site.pk),
        ("staffing", "/staff/planning/staffing/"),
    ):
        t = time.perf_counter()
        assert client.get(path).status_code == 200, path
        times[name] = time.perf_counter() - t
print(json.dumps({"start": started, "first": times}, separators=(",", ":")))
"""
STARTS = ("cold", "preload")


def run_child(path: Path, env: dict[str, str]) -> dict[str, Any]:
    out = children.run_child(CHILD, str(path), str(ROWS), str(PAGE_REPEAT), env=env)
    result: dict[str, Any] = children.last_json(out, "import")
    result["starts"] = {
        start: children.last_json(children.run_child(FIRST_CHILD, start, env=env), "start")
        for start in STARTS
    }
    return result


def postgres(path: Path) -> dict[str, Any] | None:
    return children.on_fresh_postgres("bench_register", lambda env: run_child(path, env))


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "register.csv"
        write_file(path, ROWS)
        size_mb = path.stat().st_size / 1e6
        base = baseline(path)
        data_dir = Path(tmp) / "sqlite"
        data_dir.mkdir()
        runs = [
            (
                "SQLite",
                run_child(
                    path,
                    {
                        "MADOGUCHI_DATA_DIR": str(data_dir),
                        "DATABASE_URL": f"sqlite:///{data_dir}/b.sqlite3",
                    },
                ),
            )
        ]
        pg = postgres(path)
        if pg:
            runs.append(("PostgreSQL", pg))
    print(f"Register import: {ROWS:,} rows, {size_mb:.1f} MB, load {os.getloadavg()[0]:.1f}")
    print(f"{'run':<38}{'seconds':>9}{'rows/s':>11}{'vs csv':>9}  target")
    print(f"{'baseline: csv.reader only':<38}{base:>9.2f}{ROWS / base:>11,.0f}{1:>8.1f}×")
    if not pg:
        print("(PostgreSQL skipped: set MADOGUCHI_TEST_DATABASE_URL)")
    ok = True
    for backend, run in runs:
        for label, value, target in (
            (f"{backend}: import", run["import"], IMPORT_TARGET_SECONDS),
            (f"{backend}: same file again", run["repeat"], IMPORT_TARGET_SECONDS),
        ):
            met = value <= target
            ok &= met
            print(
                f"{label:<38}{value:>9.2f}{ROWS / value:>11,.0f}{value / base:>8.1f}×"
                f"  ≤ {target:.0f} s {'met' if met else 'MISSED'}"
            )
    print()
    print(f"Planning pages after the import: {PAGE_REPEAT} requests each after a first one")
    print(f"{'page':<34}{'first':>8}{'median':>8}{'p95':>8}  target")
    for backend, run in runs:
        for name, (first, *samples) in run["pages"].items():
            median, high = statistics.median(samples), p95(samples)
            met = high < PAGE_TARGET_SECONDS
            if name.endswith("-computed"):  # the baseline
                print(f"{backend + ': ' + name:<34}{first:>8.2f}{median:>8.2f}{high:>8.2f}")
                continue
            ok &= met
            print(
                f"{backend + ': ' + name:<34}{first:>8.2f}{median:>8.2f}{high:>8.2f}"
                f"  p95 < {PAGE_TARGET_SECONDS:.0f} s {'met' if met else 'MISSED'}"
            )
        kept, computed = run["pages"]["planning"][1:], run["pages"]["planning-computed"][1:]
        print(
            f"{backend}: planning p95 kept ÷ computed: {p95(kept) / p95(computed):.2f}; "
            f"median {statistics.median(kept) / statistics.median(computed):.2f}"
        )
    print()
    print("First request of a fresh process (seconds), by how the process started")
    print(f"{'start':<28}{'start-up':>9}{'planning':>10}{'what-if':>9}{'staffing':>10}")
    for backend, run in runs:
        for start in STARTS:
            first = run["starts"][start]
            print(
                f"{backend + ': ' + start:<28}{first['start']:>9.2f}"
                f"{first['first']['planning']:>10.2f}{first['first']['what-if']:>9.2f}"
                f"{first['first']['staffing']:>10.2f}"
            )
    finish(ok)


if __name__ == "__main__":
    main()
