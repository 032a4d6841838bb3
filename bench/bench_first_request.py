"""The first request of a fresh server process against its tenth, by how the process started.

A setup child builds the demo city (DEMO_RESIDENTS residents) on a fresh database per backend
(SQLite in a temp dir; PostgreSQL `<db>_bench_first`, created and dropped, when
MADOGUCHI_TEST_DATABASE_URL is set), solves its staffing plan, signs the demo manager in through
both steps and opens the planning dashboard once — as a server that ran before the restart
would have (its figures are kept in the database). Then, for each page and each start, a fresh
process loads the application and requests the page ten times with that session's cookie through
a test client whose middleware is loaded before the first request, as the WSGI handler's is at
start-up (the first request also opens the database connection, as a worker's first does):

- "preload" (the baseline): what `madoguchi.wsgi` loaded before the warm-up — Django set up and
  the URL configuration imported (every view module, the engine, numpy and scipy);
- "warm-up": `import madoguchi.wsgi` as `madoguchi serve` (gunicorn `--preload`) loads it before
  forking its workers — the same plus `core.warmup` (reverse tables and catalogues of every
  language, every project template compiled, the code digest).

Each row gives the start-up time, the first and the tenth request and their ratio. Target: the
first request within 2× the tenth after the warm-up start.

    .venv/bin/python bench/bench_first_request.py          # BENCH_SMOKE=1: 300 residents
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

import children
from smoke import SMOKE, finish, size

DEMO_RESIDENTS = size(20_000, 300)
REQUESTS = 10
RATIO_TARGET = 2.0
PAGES = ("/staff/planning/",) if SMOKE else ("/lookup/", "/staff/", "/staff/planning/")
STARTS = ("preload", "warm-up")
MOMENT = "2026-11-26T01:00:00+00:00"

SETUP = """
import datetime as dt, io, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
import django
django.setup()
import time_machine
from django.conf import settings
from django.core.management import call_command
call_command("migrate", verbosity=0)
from madoguchi.demo.city import build_demo_city
with time_machine.travel(dt.datetime.fromisoformat(sys.argv[2]), tick=True):
    build_demo_city(residents=int(sys.argv[1]), seed=1, today=dt.date(2026, 11, 26))
    call_command("solve_staffing", stdout=io.StringIO())
    from children import signed_in_client
    client = signed_in_client("demo-manager", HTTP_HOST="localhost")
    assert client.get("/staff/planning/").status_code == 200  # its figures are kept now
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    print(json.dumps({"cookie": cookie}, separators=(",", ":")))
"""

FRESH = """
import datetime as dt, json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
start = time.perf_counter()
if sys.argv[1] == "warm-up":
    import madoguchi.wsgi  # what gunicorn --preload loads before forking the workers
else:  # what madoguchi.wsgi loaded before the warm-up
    from django.core.wsgi import get_wsgi_application
    from django.urls import get_resolver
    get_wsgi_application()
    get_resolver().url_patterns
started = time.perf_counter() - start
import time_machine
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="localhost")
client.cookies[settings.SESSION_COOKIE_NAME] = sys.argv[3]
client.handler.load_middleware()  # as gunicorn's WSGIHandler does when the process starts
times = []
with time_machine.travel(dt.datetime.fromisoformat(sys.argv[4]), tick=True):
    for _ in range(int(sys.argv[5])):
        t = time.perf_counter()
        response = client.get(sys.argv[2])
        times.append(time.perf_counter() - t)
        assert response.status_code == 200, (sys.argv[2], response.status_code)
print(json.dumps({"start": started, "times": times}, separators=(",", ":")))
"""


def run(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    setup = children.run_child(SETUP, str(DEMO_RESIDENTS), MOMENT, env=env)
    cookie = children.last_json(setup, "cookie")["cookie"]
    return {
        f"{page} {start}": children.last_json(
            children.run_child(FRESH, start, page, cookie, MOMENT, str(REQUESTS), env=env), "start"
        )
        for page in PAGES
        for start in STARTS
    }


def main() -> None:
    load_before = os.getloadavg()
    runs: list[tuple[str, dict[str, dict[str, Any]]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {"MADOGUCHI_DATA_DIR": tmp, "DATABASE_URL": f"sqlite:///{tmp}/b.sqlite3"}
        runs.append(("SQLite", run(env)))
    pg = children.on_fresh_postgres("bench_first", run)
    if pg:
        runs.append(("PostgreSQL", pg))
    load_after = os.getloadavg()
    print(
        f"First request of a fresh process against its tenth; demo city {DEMO_RESIDENTS:,} "
        f"residents; load {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    print(
        f"{'backend: page, start':<42}{'start-up':>9}{'first':>8}{'tenth':>8}{'ratio':>8}  target"
    )
    if not pg:
        print("(PostgreSQL skipped: set MADOGUCHI_TEST_DATABASE_URL)")
    ok = True
    for backend, results in runs:
        for page in PAGES:
            for start in STARTS:
                result = results[f"{page} {start}"]
                first, tenth = result["times"][0], result["times"][-1]
                ratio = first / tenth
                verdict = ""
                if start == "warm-up":
                    met = ratio <= RATIO_TARGET
                    ok &= met
                    verdict = f"≤ {RATIO_TARGET:.0f}× {'met' if met else 'MISSED'}"
                print(
                    f"{backend + ': ' + page + ', ' + start:<42}{result['start']:>9.2f}"
                    f"{first:>8.3f}{tenth:>8.3f}{ratio:>7.1f}×  {verdict}"
                )
    finish(ok)


if __name__ == "__main__":
    sys.exit(main())
