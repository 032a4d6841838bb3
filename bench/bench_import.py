"""100,000 J-LIS delivery rows imported (all or nothing) on SQLite and on PostgreSQL.

Baseline from the same run: a raw `csv.reader` pass over the same file. Each backend runs in a
child process against a fresh database (SQLite in a temp dir; PostgreSQL `<db>_bench_issuance`,
created and dropped, when MADOGUCHI_TEST_DATABASE_URL is set). Target: ≤ 10 s each.

    .venv/bin/python bench/bench_import.py [ROWS]
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

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else size(100_000, 2_000)
TARGET_SECONDS = 10.0
HEADER = (
    "application_id,delivered_on,family_name,given_name,family_name_kana,given_name_kana,"
    "birth_date,postal_code,address,application_kind"
)


def write_file(path: Path, rows: int) -> None:
    rng = random.Random(1)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER + "\n")
        for i in range(rows):
            born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 29000))
            f.write(
                f"{90210358112040000000000 + i:023d},2026-11-20,山田,花子,ヤマダ,ハナコ,"
                f"{born},123-{rng.randint(0, 9999):04d},デモ市中央一丁目{i % 30 + 1}番3号,renewal\n"
            )


def baseline(path: Path) -> float:
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as f:
        count = sum(1 for _ in csv.reader(f))
    assert count == ROWS + 1
    return time.perf_counter() - start


CHILD = """
import os, sys, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from madoguchi.core.audit import Actor
from madoguchi.issuance.imports import import_deliveries
from madoguchi.offices.models import Municipality
m = Municipality.objects.create(code="999997", name="bench")
with open(sys.argv[1], "rb") as f:
    start = time.perf_counter()
    report = import_deliveries(
        f, file_name="bench.csv", municipality=m, actor=Actor.system("bench")
    )
    seconds = time.perf_counter() - start
assert report.accepted and report.created == int(sys.argv[2]), report.lines()[:5]
with open(sys.argv[1], "rb") as f:
    start = time.perf_counter()
    again = import_deliveries(f, file_name="bench.csv", municipality=m, actor=Actor.system("bench"))
    repeat = time.perf_counter() - start
assert again.accepted and again.created == 0
print(f"{seconds:.3f} {repeat:.3f}")
"""


def run_child(path: Path, env: dict[str, str]) -> tuple[float, float]:
    out = children.run_child(CHILD, str(path), str(ROWS), env=env)
    return float(out[-2]), float(out[-1])


def postgres(path: Path) -> tuple[float, float] | None:
    return children.on_fresh_postgres("bench_issuance", lambda env: run_child(path, env))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deliveries.csv"
        write_file(path, ROWS)
        size_mb = path.stat().st_size / 1e6
        base = baseline(path)
        data_dir = Path(tmp) / "sqlite"
        data_dir.mkdir()
        sqlite = run_child(
            path,
            {
                "MADOGUCHI_DATA_DIR": str(data_dir),
                "DATABASE_URL": f"sqlite:///{data_dir}/b.sqlite3",
            },
        )
        pg = postgres(path)
    print(f"J-LIS delivery import: {ROWS:,} rows, {size_mb:.1f} MB, load {os.getloadavg()[0]:.1f}")
    print(f"{'run':<34}{'seconds':>9}{'rows/s':>11}{'vs csv':>9}  target ≤ {TARGET_SECONDS:.0f} s")
    print(f"{'baseline: csv.reader only':<34}{base:>9.2f}{ROWS / base:>11,.0f}{1:>8.1f}×")
    results = [("SQLite: import", sqlite[0]), ("SQLite: same file again", sqlite[1])]
    if pg:
        results += [("PostgreSQL: import", pg[0]), ("PostgreSQL: same file again", pg[1])]
    else:
        print("(PostgreSQL skipped: set MADOGUCHI_TEST_DATABASE_URL)")
    ok = True
    for label, seconds in results:
        met = seconds <= TARGET_SECONDS
        ok &= met
        print(
            f"{label:<34}{seconds:>9.2f}{ROWS / seconds:>11,.0f}{seconds / base:>8.1f}×"
            f"  {'met' if met else 'MISSED'}"
        )
    finish(ok)


if __name__ == "__main__":
    main()
