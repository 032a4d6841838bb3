"""The read pages a booking rush hits first, against a static file from the same server (issue 16).

The demo city (`madoguchi demo --no-serve`, a small register: the pages read sites, hours and
slots, not residents) on SQLite and — with MADOGUCHI_TEST_DATABASE_URL — on a fresh PostgreSQL
database, served by gunicorn as `madoguchi serve` runs it (`bench/pages.py`). `wrk` with 50
keep-alive connections on one URL at a time: a static file (the baseline), the home page, the
procedure list, the main office's month calendar for card pick-ups and one day's times — the
last two as the notice's QR code opens them (`?notice=…`, a different number on every
request, so a carried number never makes a page its own). Target: each page ≥ 25% of the
static file's requests/s in the same run.

    .venv/bin/python bench/bench_read_pages.py        # BENCH_SMOKE=1: a few seconds
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))
import pages  # noqa: E402
from children import on_fresh_postgres  # noqa: E402
from smoke import finish, size  # noqa: E402

RESIDENTS = size(5_000, 500)
SECONDS = size(10, 1)
NOTICES = 1_000
RATIO_TARGET = 0.25

WHERE = r"""
import json, django
django.setup()
from madoguchi.offices.models import Site, SiteKind
from madoguchi.resident_site.availability import month_grid
from madoguchi.reservations.selectors import booking_window
site = Site.objects.filter(kind=SiteKind.MAIN_OFFICE).order_by("pk").first()
window = booking_window(site.municipality)
days = [c.day for m in ((window.first.year, window.first.month),
                        (window.last.year, window.last.month))
        for week in month_grid(site.pk, "card_pickup", *m) for c in week if c.bookable]
print(json.dumps({"site": site.pk, "day": days[0].isoformat()}))
"""


def measure(backend: str, database_url: str | None) -> dict[str, object]:
    workdir = pages.settings_dir()
    env = pages.server_env(workdir, database_url)
    pages.run([str(pages.BIN / "madoguchi"), "demo", "--no-serve", f"--residents={RESIDENTS}"], env)
    where = json.loads(pages.run([sys.executable, "-c", WHERE], env).strip().splitlines()[-1])
    from madoguchi.env import default_workers

    workers = default_workers(database_url or "")
    server = pages.Server(env, workdir, workers)
    site, day = where["site"], where["day"]
    qr = [f"?notice=QR{n:07d}" for n in range(NOTICES)]
    urls: list[tuple[str, str | list[str]]] = [
        ("static file (baseline)", pages.STATIC_FILE),
        ("home /", "/"),
        ("procedure list /book/", "/book/"),
        ("month calendar (QR path)", [f"/book/card_pickup/{site}/{q}" for q in qr]),
        ("day's times (QR path)", [f"/book/card_pickup/{site}/{day}/{q}" for q in qr]),
    ]
    rates = {}
    try:
        for name, paths in urls:
            first = paths if isinstance(paths, str) else paths[0]
            status, body = server.get(first)
            assert status == 200, (first, status)  # the timed page is the page
            if name.startswith("day"):
                assert b"/slot/" in body, "the day offers times"
            rate = server.rate(paths, SECONDS)
            rates[name] = [rate.per_second, rate.p50, rate.p99, rate.not_2xx + rate.errors]
    finally:
        server.stop()
    return {"backend": backend, "workers": workers, "rates": rates}


def main() -> None:
    results = [measure("SQLite", None)]
    on_postgres = on_fresh_postgres(
        "read_pages", lambda env: measure("PostgreSQL", env["DATABASE_URL"])
    )
    if on_postgres is not None:
        results.append(on_postgres)
    met = True
    print(
        f"Read pages, 50 keep-alive clients, {SECONDS} s per URL, demo city with {RESIDENTS:,} "
        f"residents; {os.cpu_count()} cores, load average {pages.load_average()} at the end"
    )
    for r in results:
        print(f"\n**{r['backend']}** — gunicorn {r['workers']} sync workers\n")
        print("| page | requests/s | ÷ static | p50 | p99 | not 200 |")
        print("|---|---|---|---|---|---|")
        rates = r["rates"]
        static = rates["static file (baseline)"][0]  # type: ignore[index]
        for name, (rate, p50, p99, bad) in rates.items():  # type: ignore[attr-defined]
            ratio = rate / static if static else 0.0
            if not name.startswith("static"):
                met &= ratio >= RATIO_TARGET
            met &= bad == 0
            print(f"| {name} | {rate:,.0f} | {ratio:.0%} | {p50:.0f} ms | {p99:.0f} ms | {bad} |")
    verdict = "met" if met else "MISSED"
    print(f"\ntarget (each page ≥ {RATIO_TARGET:.0%} of the static file): {verdict}")
    finish(met)


if __name__ == "__main__":
    main()
