"""Queue load: displays and phones polling the queue pages while a counter calls (issue 14).

One site with a queue of waiting tickets and four counters, served by gunicorn as
`madoguchi serve` runs it (`bench/pages.py`), on SQLite and — with MADOGUCHI_TEST_DATABASE_URL —
on a fresh PostgreSQL database. Two phases per database, in the same run:

1. **Polling.** 50 clients, each on its own connection: 10 waiting-room displays polling
   `board.json` every 3 s (as `display.js` does), 30 phones polling their own ticket's page,
   5 the congestion page (`/queue/`) and 5 the site's ticket page (`/queue/sites/N/take/`),
   every 5 s; every 30 s one of the four counters in turn finishes its visitor and calls the
   next (through the walk-in services, as the calling page does). Reports p95/max latency per
   endpoint and the time from each call's commit until each display first shows the number.
   Targets: p95 < 50 ms; every call on every display within 5 s.
2. **Saturated.** `wrk` with 50 keep-alive connections on one URL at a time: a static file
   (the baseline), the display page, `board.json`, the ticket pages (random tokens over every
   waiting ticket), the congestion page and the site's ticket page — while the counters call
   in turn every 5 s and one display polls every 3 s. Target: each page ≥ 25% of the static file's
   requests/s, and every call still on the display within 5 s.

    .venv/bin/python bench/bench_queue_load.py        # BENCH_SMOKE=1: a few seconds
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))
import pages  # noqa: E402
from children import on_fresh_postgres  # noqa: E402
from smoke import finish, size  # noqa: E402

POLL_SECONDS = size(120, 8)
CALL_EVERY = size(30.0, 4.0)
SATURATED_SECONDS = size(10, 1)
SATURATED_CALL_EVERY = size(5.0, 4.0)
WAITING = size(300, 30)
DISPLAYS, PHONES, CONGESTION, SITE_PAGE = 10, 30, 5, 5
DISPLAY_POLL = 3.0  # queue_board.views.DISPLAY_POLL_SECONDS, as display.js polls
PHONE_POLL = 5.0
P95_TARGET_MS = 50
VISIBLE_TARGET_S = 5.0
RATIO_TARGET = 0.25


def _seed(waiting: int) -> dict[str, object]:
    """One municipality, one site open every day until 20:00 with four counters, and
    `waiting` tickets issued through the service (at 19:00 today if it is later than that)."""
    import time_machine

    from madoguchi.core import clock
    from madoguchi.core.audit import Actor
    from madoguchi.offices.models import (
        Counter,
        Municipality,
        OpeningSession,
        Procedure,
        Site,
    )
    from madoguchi.walkins.services import issue_ticket

    city = Municipality.objects.create(code="999997", name="ベンチ市")
    renewal = Procedure.objects.create(
        code="cert_renewal", name="電子証明書の更新", duration_minutes=15
    )
    site = Site.objects.create(
        municipality=city, name="ベンチ本庁舎", kind="main_office", address="-"
    )
    site.procedures.set([renewal])
    for weekday in range(7):
        OpeningSession.objects.create(
            site=site,
            weekday=weekday,
            kind="weekend" if weekday >= 5 else "weekday",
            starts_at_time=dt.time(0, 0),
            ends_at_time=dt.time(20, 0),
            counters_open=4,
        )
    counters = [Counter.objects.create(site=site, name=f"{n}番窓口") for n in range(1, 5)]
    now = clock.now()
    at = min(now, clock.at(clock.today(), dt.time(19, 0)))
    with time_machine.travel(at, tick=True):
        tokens = [
            issue_ticket(site=site, procedure=renewal, actor=Actor.resident("web")).token
            for _ in range(waiting)
        ]
    return {"site": site.pk, "tokens": tokens, "counters": [c.pk for c in counters]}


class Counter:
    """The counters at work, in turn: the next counter finishes its visitor and calls the next
    one (so a number stays on the display while it is served, four calls long); note when
    each call committed."""

    def __init__(self, site_id: int, counter_ids: list[int]) -> None:
        self.site_id, self.counter_ids = site_id, counter_ids
        self.calls: dict[str, float] = {}  # label → time.monotonic() at commit
        self.current: dict[int, Any] = {}
        self.turn = 0

    def call(self) -> None:
        from madoguchi.core.audit import Actor
        from madoguchi.offices.models import Counter as CounterModel
        from madoguchi.walkins.services import call_next_ticket, finish_ticket, start_serving

        counter_id = self.counter_ids[self.turn % len(self.counter_ids)]
        self.turn += 1
        counter = CounterModel.objects.select_related("site").get(pk=counter_id)
        actor = Actor.system("bench-counter")
        previous = self.current.pop(counter_id, None)
        if previous is not None:
            finish_ticket(ticket=start_serving(ticket=previous, actor=actor), actor=actor)
        called = call_next_ticket(site=counter.site, counter=counter, actor=actor)
        if called is not None:
            self.current[counter_id] = called
            self.calls[called.label] = time.monotonic()

    def run(self, every: float, stop: threading.Event) -> None:
        while not stop.wait(every):
            self.call()


@dataclass
class Client:
    """One polling client on its own connection: latencies and what the display showed."""

    path: str
    every: float
    port: int
    latencies: list[float] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)
    errors: int = 0

    def run(self, stop: threading.Event) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        if stop.wait(random.uniform(0, self.every)):
            return
        while not stop.is_set():
            began = time.monotonic()
            try:
                conn.request("GET", self.path)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    self.errors += 1
            except (OSError, http.client.HTTPException):
                conn.close()
                self.errors += 1
                body = b""
            done = time.monotonic()
            self.latencies.append((done - began) * 1000)
            if self.path.endswith("board.json") and body:
                for call in json.loads(body)["calling"]:
                    self.seen.setdefault(call["number"], done)
            stop.wait(max(0.0, self.every - (done - began)))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _visibility(counter: Counter, displays: list[Client]) -> list[float]:
    """Seconds from each call's commit to each display's first sight of it (a display that
    never showed a call counts as infinitely late)."""
    delays = []
    for label, called in counter.calls.items():
        for display in displays:
            seen = display.seen.get(label)
            delays.append(seen - called if seen is not None else float("inf"))
    return delays


def run_backend(backend: str) -> dict[str, object]:
    """Inside a child process whose environment points at one fresh database."""
    import django

    django.setup()
    from django.core.management import call_command

    from madoguchi.env import default_workers

    call_command("migrate", verbosity=0, interactive=False)
    seed = _seed(WAITING)
    site, tokens = seed["site"], list(seed["tokens"])  # type: ignore[call-overload]
    from django.db import connections

    connections.close_all()
    workdir = Path(os.environ["MADOGUCHI_DATA_DIR"])
    workers = default_workers(os.environ.get("DATABASE_URL", ""))
    server = pages.Server(dict(os.environ), workdir, workers)
    result: dict[str, object] = {"backend": backend, "workers": workers, "waiting": WAITING}
    try:
        board, board_json = f"/queue/sites/{site}/", f"/queue/sites/{site}/board.json"
        take, congestion = f"/queue/sites/{site}/take/", "/queue/"
        ticket_pages = [f"/queue/tickets/{t}/" for t in tokens]
        for path in (board, board_json, take, congestion, ticket_pages[0]):
            status, _ = server.get(path)
            assert status == 200, (path, status)  # the timed page is the page

        # 1. polling
        counter = Counter(site, seed["counters"])  # type: ignore[arg-type]
        clients = (
            [Client(board_json, DISPLAY_POLL, server.port) for _ in range(DISPLAYS)]
            + [Client(p, PHONE_POLL, server.port) for p in random.sample(ticket_pages, PHONES)]
            + [Client(congestion, PHONE_POLL, server.port) for _ in range(CONGESTION)]
            + [Client(take, PHONE_POLL, server.port) for _ in range(SITE_PAGE)]
        )
        stop, stop_calling = threading.Event(), threading.Event()
        threads = [threading.Thread(target=c.run, args=(stop,)) for c in clients]
        calling = threading.Thread(target=counter.run, args=(CALL_EVERY, stop_calling))
        for t in [*threads, calling]:
            t.start()
        time.sleep(POLL_SECONDS)
        stop_calling.set()
        calling.join()
        time.sleep(DISPLAY_POLL + 1)  # the last call's displays get their chance
        stop.set()
        for t in threads:
            t.join()
        groups = {
            "board.json (displays)": [c for c in clients if c.path == board_json],
            "ticket pages (phones)": [c for c in clients if c.path.startswith("/queue/tickets/")],
            "congestion /queue/": [c for c in clients if c.path == congestion],
            "site ticket page": [c for c in clients if c.path == take],
        }
        result["polling"] = {
            name: {
                "requests": sum(len(c.latencies) for c in group),
                "p95": _percentile([x for c in group for x in c.latencies], 0.95),
                "max": max((x for c in group for x in c.latencies), default=float("nan")),
                "errors": sum(c.errors for c in group),
            }
            for name, group in groups.items()
        }
        delays = _visibility(counter, groups["board.json (displays)"])
        result["polling_calls"] = len(counter.calls)
        result["polling_visible"] = [_percentile(delays, 0.95), max(delays, default=0.0)]

        # 2. saturated, a counter calling and a display polling meanwhile
        counter.calls.clear()
        watcher = Client(board_json, DISPLAY_POLL, server.port)
        stop, stop_calling = threading.Event(), threading.Event()
        watching = threading.Thread(target=watcher.run, args=(stop,))
        calling = threading.Thread(target=counter.run, args=(SATURATED_CALL_EVERY, stop_calling))
        watching.start()
        calling.start()
        rates = {}
        for name, paths in (
            ("static file (baseline)", pages.STATIC_FILE),
            ("display page", board),
            ("board.json", board_json),
            (f"ticket pages ({len(ticket_pages)} tokens)", ticket_pages),
            ("congestion /queue/", congestion),
            ("site ticket page", take),
        ):
            rate = server.rate(paths, SATURATED_SECONDS)
            rates[name] = [rate.per_second, rate.p50, rate.p99, rate.not_2xx + rate.errors]
        stop_calling.set()
        calling.join()
        time.sleep(DISPLAY_POLL + 1)
        stop.set()
        watching.join()
        delays = _visibility(counter, [watcher])
        result["saturated"] = rates
        result["saturated_calls"] = len(counter.calls)
        result["saturated_visible"] = [_percentile(delays, 0.95), max(delays, default=0.0)]
    finally:
        server.stop()
    return result


def _child(backend: str, database_env: dict[str, str]) -> dict[str, object]:
    workdir = pages.settings_dir()
    env = pages.server_env(workdir, database_env.get("DATABASE_URL"))
    out = subprocess.run(
        [sys.executable, __file__, "--backend", backend],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"the {backend} run failed")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _table(results: list[dict[str, object]]) -> tuple[str, bool]:
    met = True
    lines = []
    for r in results:
        lines.append(
            f"\n**{r['backend']}** — gunicorn {r['workers']} sync workers, {r['waiting']} "
            f"waiting tickets; polling {POLL_SECONDS} s, saturated {SATURATED_SECONDS} s per URL"
        )
        lines += [
            "",
            "| polling (50 clients) | requests | p95 | max | errors |",
            "|---|---|---|---|---|",
        ]
        for name, p in r["polling"].items():  # type: ignore[attr-defined]
            met &= p["p95"] < P95_TARGET_MS and p["errors"] == 0
            lines.append(
                f"| {name} | {p['requests']} | {p['p95']:.1f} ms | {p['max']:.1f} ms | "
                f"{p['errors']} |"
            )
        p95, worst = r["polling_visible"]  # type: ignore[misc]
        met &= worst <= VISIBLE_TARGET_S
        lines.append(
            f"| a call on every display (commit → shown; {r['polling_calls']} calls × "
            f"{DISPLAYS} displays) | | {p95:.1f} s | {worst:.1f} s | |"
        )
        lines += [
            "",
            "| saturated (50 keep-alive clients) | requests/s | ÷ static | p50 | p99 | not 200 |",
            "|---|---|---|---|---|---|",
        ]
        saturated = r["saturated"]
        static = saturated["static file (baseline)"][0]  # type: ignore[index]
        for name, (rate, p50, p99, bad) in saturated.items():  # type: ignore[attr-defined]
            ratio = rate / static if static else 0.0
            if not name.startswith("static"):
                met &= ratio >= RATIO_TARGET
            met &= bad == 0
            lines.append(
                f"| {name} | {rate:,.0f} | {ratio:.0%} | {p50:.0f} ms | {p99:.0f} ms | {bad} |"
            )
        p95, worst = r["saturated_visible"]  # type: ignore[misc]
        met &= worst <= VISIBLE_TARGET_S
        lines.append(
            f"| a call on the display meanwhile ({r['saturated_calls']} calls, display polling "
            f"every {DISPLAY_POLL:.0f} s) | p95 {p95:.1f} s | max {worst:.1f} s | | | |"
        )
    return "\n".join(lines), met


def main() -> None:
    if "--backend" in sys.argv:
        backend = sys.argv[sys.argv.index("--backend") + 1]
        print(json.dumps(run_backend(backend)))
        return
    results = [_child("SQLite", {})]
    on_postgres = on_fresh_postgres("queue_load", lambda env: _child("PostgreSQL", env))
    if on_postgres is not None:
        results.append(on_postgres)
    table, met = _table(results)
    print(f"Queue load, {os.cpu_count()} cores, load average {pages.load_average()} at the end")
    print(table)
    print(
        f"\ntargets (p95 < {P95_TARGET_MS} ms polling; each page ≥ {RATIO_TARGET:.0%} of the "
        f"static file saturated; every call on the display within {VISIBLE_TARGET_S:.0f} s): "
        f"{'met' if met else 'MISSED'}"
    )
    finish(met)


if __name__ == "__main__":
    main()
