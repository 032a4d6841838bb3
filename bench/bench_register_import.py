"""A 1,000,000-row register imported (`import_register`) on SQLite and on PostgreSQL, and the
planning page of that municipality afterwards.

Baseline from the same run: a raw `csv.reader` pass over the same file. Each backend runs in a
child process against a fresh database (SQLite in a temp dir; PostgreSQL `<db>_bench_register`,
created and dropped, when MADOGUCHI_TEST_DATABASE_URL is set). The child builds the small demo
city (its sites and staff), then replaces its register with the generated file. Targets: import
≤ 60 s on each backend; the planning page < 1 s (the second request; the first also fills the
per-process cube cache).

    .venv/bin/python bench/bench_register_import.py [ROWS]      # BENCH_SMOKE=1: 5,000 rows
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import children
from smoke import finish, size

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else size(1_000_000, 5_000)
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
import datetime as dt, os, sys, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
django.setup()
import time_machine
from django.core.management import call_command
call_command("migrate", verbosity=0)
from madoguchi.core.audit import Actor
from madoguchi.demo.city import build_demo_city
from madoguchi.forecasts.register_import import import_register
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
    from children import signed_in_client
    client = signed_in_client("demo-manager", HTTP_HOST="localhost")
    pages = []
    for _ in range(2):
        start = time.perf_counter()
        response = client.get("/staff/planning/")
        pages.append(time.perf_counter() - start)
        assert response.status_code == 200
print(f"{seconds:.3f} {repeat:.3f} {pages[0]:.3f} {pages[1]:.3f}")
"""


def run_child(path: Path, env: dict[str, str]) -> list[float]:
    return [float(value) for value in children.run_child(CHILD, str(path), str(ROWS), env=env)[-4:]]


def postgres(path: Path) -> list[float] | None:
    return children.on_fresh_postgres("bench_register", lambda env: run_child(path, env))


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
    for backend, (seconds, repeat, first_page, page) in runs:
        for label, value, target in (
            (f"{backend}: import", seconds, IMPORT_TARGET_SECONDS),
            (f"{backend}: same file again", repeat, IMPORT_TARGET_SECONDS),
        ):
            met = value <= target
            ok &= met
            print(
                f"{label:<38}{value:>9.2f}{ROWS / value:>11,.0f}{value / base:>8.1f}×"
                f"  ≤ {target:.0f} s {'met' if met else 'MISSED'}"
            )
        met = page < PAGE_TARGET_SECONDS
        ok &= met
        print(f"{backend + ': planning page, first request':<38}{first_page:>9.2f}")
        print(
            f"{backend + ': planning page, next request':<38}{page:>9.2f}{'':>20}"
            f"  < {PAGE_TARGET_SECONDS:.0f} s {'met' if met else 'MISSED'}"
        )
    finish(ok)


if __name__ == "__main__":
    main()
