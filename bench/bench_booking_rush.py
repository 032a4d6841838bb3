"""Booking rush: 64 concurrent HTTP clients POST /api/v1/reservations against PostgreSQL.

Starts gunicorn on loopback against a fresh database (`<MADOGUCHI_TEST_DATABASE_URL's db>_bench`),
seeds one site, 50 hot card_pickup slots (48 large, 2 small that fill up during the run, so the
capacity guard is exercised under load) and cards with notices, then drives the API with `wrk`
(64 keep-alive connections, each request a different notice number on a random hot slot) for
BENCH_SECONDS. Without `wrk` on PATH (Debian package `wrk`) it falls back to 64 Python threads,
which spend much of the 2 cores themselves.

Baseline, in the same run (10 s before and 10 s after the HTTP phase, averaged): pgbench drives
the same booking transaction the API runs, in the same ONE round trip (decision 0011) —
`BEGIN \\;` the app's own statement (`reservations.fastpath.STATEMENT`, verbatim, its
parameters written as pgbench expressions: the card locked first, the conditional seat claim
requiring it ready, the reservation, card move and two audit events depending on the claim)
`\\; COMMIT` — with `-c 64 -j 2`. (The slot itself comes from the app's per-process cache, so
it is not read.) `MADOGUCHI_BOOKING_PATH=orm` in the environment runs the app on the ORM
reference implementation instead, for comparisons. Prints bookings/s, p50/p99 latency and wrk's
latency distribution, the ratio, and checks that no slot holds more reservations than its
capacity (and that `booked` equals the count of active reservations).

Then, on the same server, the residents' page flow (issue 16 item 3) with 64 clients for the
same time: each connection is one resident after another on the notice's QR path — the month
calendar, the day's times, the form (`?notice=…` carried), the confirmation page, the booking
POST and the reservation page it redirects to, with the CSRF cookie and the resident cookie as a
browser keeps them (wrk, one thread per connection) — on the same hot slots. The three-way
table puts the API rush, the page flow and pgbench side by side: bookings/s, latency per
request, PostgreSQL's CPU per booking against pgbench's per transaction, overbooking.

    MADOGUCHI_TEST_DATABASE_URL=postgres://madoguchi@127.0.0.1:54329/madoguchi \\
        .venv/bin/python bench/bench_booking_rush.py

Rate limits are switched off for the run (all clients share 127.0.0.1); audit events are sealed
by the per-process background sealer, as in production.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
from madoguchi.env import default_workers  # noqa: E402  serve's own default
from smoke import finish, size  # noqa: E402

BIN = Path(sys.executable).parent
PGBENCH = os.environ.get("PGBENCH", "/usr/lib/postgresql/15/bin/pgbench")
CLIENTS = int(os.environ.get("BENCH_CLIENTS", str(size(64, 8))))
SECONDS = int(os.environ.get("BENCH_SECONDS", str(size(20, 2))))
# `madoguchi serve`'s kind of server: sync workers (they queue fairly on one accept queue:
# gthread's keep-alive connections gave p99 four times higher here), as many as serve starts by
# default for this database (env.default_workers: one per core beside a local PostgreSQL).
WORKERS_SETTING = os.environ.get("BENCH_WORKERS", "")
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "sync")
HTTP_CARDS = int(os.environ.get("BENCH_HTTP_CARDS", str(size(40_000, 2_000))))
PG_CARDS = size(100_000, 5_000)
PAGE_CARDS = size(20_000, 1_000)
LARGE_SLOTS, SMALL_SLOTS, SMALL_SEATS = 48, 2, 25

SEED = r"""
import datetime as dt, json, sys
from django.db import connection
from madoguchi.core import clock
from madoguchi.issuance.models import CardRecord
from madoguchi.offices.models import Municipality, Procedure, Site
from madoguchi.reservations.models import Slot

LARGE, SMALL, SMALL_SEATS, HTTP_CARDS, PG_CARDS, PAGE_CARDS = (int(a) for a in sys.argv[1:7])
city = Municipality.objects.create(code="999997", name="ベンチ市")
pickup = Procedure.objects.create(code="card_pickup", name="カードの受け取り", duration_minutes=20)
site = Site.objects.create(municipality=city, name="ベンチ本庁舎", kind="main_office", address="-")
site.procedures.set([pickup])
day = clock.today() + dt.timedelta(days=10)
start = clock.at(day, dt.time(0, 0))
def slot(n, capacity):
    return Slot(site=site, procedure=pickup, capacity=capacity,
                starts_at=start + dt.timedelta(minutes=10 * n),
                ends_at=start + dt.timedelta(minutes=10 * n + 20))
http = Slot.objects.bulk_create(
    [slot(n, 10_000_000) for n in range(LARGE)]
    + [slot(LARGE + n, SMALL_SEATS) for n in range(SMALL)]
)
pg = Slot.objects.bulk_create([slot(100 + n, 10_000_000) for n in range(LARGE + SMALL)])
model = CardRecord.objects.create(
    municipality=city, application_id="0" * 23, family_name="試験", family_name_kana="シケン",
    birth_date=dt.date(1980, 1, 1), postal_code="123-4567", address="-",
    application_kind="renewal", delivered_on=clock.today(), status="notice_issued",
    notice_number="ZZZ999999", notice_issued_at=clock.now(),
)
# Clone the model card in SQL: BEN000000… for the API clients, PAG000000… for the page flow,
# PGB000001… for pgbench.
columns = [f.column for f in CardRecord._meta.concrete_fields if not f.primary_key]
fresh = {"application_id": "%s || lpad(n::text, 22, '0')",
         "notice_number": "%s || lpad(n::text, 6, '0')"}
copied = ", ".join(fresh.get(c, f'"{c}"') for c in columns)
with connection.cursor() as cursor:
    for digit, prefix, first, count in (
        ("1", "BEN", 0, HTTP_CARDS), ("2", "PGB", 1, PG_CARDS), ("3", "PAG", 0, PAGE_CARDS)
    ):
        cursor.execute(
            f'INSERT INTO issuance_cardrecord ({", ".join(columns)}) '
            f"SELECT {copied} FROM issuance_cardrecord, generate_series(%s, %s) AS n "
            "WHERE id = %s",
            [digit, prefix, first, first + count - 1, model.pk],
        )
    cursor.execute("ANALYZE")
from madoguchi.reservations.fastpath import STATEMENT
print(json.dumps({"http": [s.pk for s in http], "small": [s.pk for s in http[LARGE:]],
                  "pg": [s.pk for s in pg], "procedure": pickup.pk, "municipality": city.pk,
                  "site": site.pk, "day": day.isoformat(), "statement": STATEMENT}))
"""

WRK_SCRIPT = """
local slots = {{{slots}}}
local stride = {stride}
local threads = {{}}
local counter = 0
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  counts = {{}}
  math.randomseed(id + 1)
end
function request()
  local n = id * stride + counter
  counter = counter + 1
  local body = string.format(
    '{{"slot_id": %d, "procedure": "card_pickup", "birth_date": "1980-01-01", ' ..
    '"notice_number": "BEN%06d"}}', slots[math.random(#slots)], n)
  return wrk.format("POST", "/api/v1/reservations",
                    {{["Content-Type"] = "application/json"}}, body)
end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {{}}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("STATUS %d %d\\n", status, n)) end
  io.write(string.format("P50 %.3f\\nP99 %.3f\\nREQUESTS %d\\nSECONDS %.3f\\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.duration / 1e6))
  io.write(string.format("DIST p1 %.0f p10 %.0f p25 %.0f p50 %.0f p75 %.0f p90 %.0f " ..
    "p99 %.0f p99.9 %.0f max %.0f mean %.0f sd %.0f ms\\n",
    latency:percentile(1) / 1000, latency:percentile(10) / 1000, latency:percentile(25) / 1000,
    latency:percentile(50) / 1000, latency:percentile(75) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
    latency.mean / 1000, latency.stdev / 1000))
  io.write(string.format("ERRORS %d\\n", summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""

PAGE_SCRIPT = """
-- The residents' flow from the notice's QR code, one resident at a time per connection (wrk
-- runs one thread per connection here, so request() and response() alternate): the month
-- calendar, the day's times, the form, the confirmation page, the booking, the reservation
-- page; then the next resident (a new notice number, no cookies).
local slots = {{{slots}}}
local site, day, stride = {site}, "{day}", {stride}
local threads = {{}}
local counter, state = 0, 1
local notice, slot, csrf, token, kept, code
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
local function begin()
  notice = string.format("PAG%06d", id * stride + counter)
  counter = counter + 1
  slot = slots[math.random(#slots)]
  csrf, token, kept, code, state = nil, nil, nil, nil, 1
end
function init(args)
  math.randomseed(id + 1)
  booked, full, bad, flows = 0, 0, 0, 0
  begin()
end
local function cookies()
  local c = {{}}
  if csrf then table.insert(c, "csrftoken=" .. csrf) end
  if kept then table.insert(c, "madoguchi_resident=" .. kept) end
  return {{["Cookie"] = table.concat(c, "; "),
           ["Content-Type"] = "application/x-www-form-urlencoded"}}
end
local function form()
  return "csrfmiddlewaretoken=" .. csrf .. "&notice_number=" .. notice ..
    "&birth_date_year=1980&birth_date_month=1&birth_date_day=1"
end
function request()
  local q = "?notice=" .. notice
  if state == 1 then
    return wrk.format("GET", "/book/card_pickup/" .. site .. "/" .. q, cookies())
  elseif state == 2 then
    return wrk.format("GET", "/book/card_pickup/" .. site .. "/" .. day .. "/" .. q, cookies())
  elseif state == 3 then
    return wrk.format("GET", "/book/card_pickup/slot/" .. slot .. "/" .. q, cookies())
  elseif state == 4 then
    return wrk.format("POST", "/book/card_pickup/slot/" .. slot .. "/", cookies(), form())
  elseif state == 5 then
    return wrk.format("POST", "/book/card_pickup/slot/" .. slot .. "/", cookies(),
      form() .. "&step=confirm&token=" .. token)
  else
    return wrk.format("GET", "/reservation/" .. code .. "/", cookies())
  end
end
local function cookie(headers, name)
  local value = headers["Set-Cookie"] or headers["set-cookie"]
  return value and value:match(name .. "=([^;]+)")
end
function response(status, headers, body)
  if state == 1 and status == 200 then
    csrf = cookie(headers, "csrftoken")
    state = csrf and 2 or 1
    if not csrf then bad = bad + 1; begin() end
  elseif state == 2 and status == 200 and body:find("/slot/" .. slot .. "/", 1, true) then
    state = 3
  elseif (state == 3 or state == 4 or state == 5) and status == 409 then
    full = full + 1
    flows = flows + 1
    begin()
  elseif state == 2 and status == 200 then  -- the time is shown full: not a link
    full = full + 1
    flows = flows + 1
    begin()
  elseif state == 3 and status == 200 then
    state = 4
  elseif state == 4 and status == 200 then
    token = body:match('name="token" value="([^"]+)"')
    state = token and 5 or 1
    if not token then bad = bad + 1; begin() end
  elseif state == 5 and status == 302 then
    booked = booked + 1
    kept = cookie(headers, "madoguchi_resident")
    code = (headers["Location"] or ""):match("/reservation/([^/]+)/")
    state = 6
    if not (kept and code) then bad = bad + 1; begin() end
  elseif state == 6 and status == 200 then
    flows = flows + 1
    begin()
  else
    bad = bad + 1
    io.stderr:write(string.format("state %d status %d\\n", state, status))
    begin()
  end
end
function done(summary, latency, requests)
  local t = {{booked = 0, full = 0, bad = 0, flows = 0}}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(t) do t[name] = t[name] + thread:get(name) end
  end
  io.write(string.format("PAGES booked %d full %d bad %d flows %d\\n",
    t.booked, t.full, t.bad, t.flows))
  io.write(string.format("P50 %.3f\\nP99 %.3f\\nREQUESTS %d\\nSECONDS %.3f\\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.duration / 1e6))
  io.write(string.format("DIST p1 %.0f p10 %.0f p50 %.0f p90 %.0f p99 %.0f max %.0f ms\\n",
    latency:percentile(1) / 1000, latency:percentile(10) / 1000, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("ERRORS %d\\n", summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""

PGBENCH_SCRIPT = """\\set slot random({first}, {last})
\\set card random(1, {pg_cards})
BEGIN \\;
{statement} \\;
COMMIT;
"""

PGBENCH_VALUES = {  # the app's parameters as pgbench expressions (one card pick-up)
    "code": "ARRAY[substr(md5(random()::text), 1, 10)]",
    "person_key": "ARRAY['pgbench' || md5(random()::text)]",
    "birth_date": "ARRAY['1980-01-01']",
    "family_name_kana": "ARRAY['']",
    "given_name_kana": "ARRAY['']",
    "email": "ARRAY['']",
    "phone": "ARRAY['']",
    "notice_number": "ARRAY['PGB' || lpad(:card::text, 6, '0')]",
    "is_proxy": "ARRAY[false]",
    # row seals are computed by the app in Python (core.audit.row_seal); here a stand-in of the
    # same length (the sealer keeps these rows out of the chain: they are sealed outside the
    # measured phase and carry no valid seal)
    "card_seal": "ARRAY[repeat('s', 83)]",
    "reservation_seal": "ARRAY[repeat('r', 83)]",
    "pickup": "true",
    "seats": "1",
    "cards": "1",
    "slot": ":slot",
    "group": "'PGBENCH'",
    "channel": "'api'",
    "language": "'ja'",
    "now": "now()",
    "actor": "'resident' || chr(58) || 'api'",  # pgbench would read ":api" as a variable
}


PG_LOAD = ["-j", "2", "-T", "10"]


def _pgbench(script: Path, env: dict[str, str]) -> tuple[float, int, float]:
    """pgbench's tps, its transactions, and the database server's CPU seconds meanwhile."""
    cpu_before = sum(_server_cpu(int(env["PGPORT"])))
    # The simple query protocol, as psycopg's client-side binding cursors (Django's default).
    out = _run(
        [PGBENCH, "-n", "-f", str(script), "-c", str(CLIENTS), *PG_LOAD],
        env,
    )
    cpu = sum(_server_cpu(int(env["PGPORT"]))) - cpu_before
    tps = re.search(r"tps = ([0-9.]+)", out)
    done = re.search(r"number of transactions actually processed: ([0-9]+)", out)
    return (float(tps.group(1)) if tps else float("nan")), int(done.group(1) if done else 0), cpu


def _server_cpu(port: int) -> tuple[float, float]:
    """User + system CPU seconds of the PostgreSQL server listening on `port` (Linux /proc):
    the postmaster with its finished children (backends that exited) and its live children —
    not the other servers on a shared machine."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats: dict[int, list[str]] = {}
    postmaster = None
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            stats[int(proc.name)] = fields
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if b"-p" in argv and argv[argv.index(b"-p") + 1 : argv.index(b"-p") + 2] == [
                str(port).encode()
            ]:
                postmaster = int(proc.name)
        except (OSError, IndexError, ValueError):
            continue
    if postmaster is None:
        return float("nan"), float("nan")
    own = stats[postmaster]
    user, system = int(own[11]) + int(own[13]), int(own[12]) + int(own[14])
    for fields in stats.values():
        if int(fields[1]) == postmaster:  # a live child: ppid is the postmaster
            user, system = user + int(fields[11]), system + int(fields[12])
    return user / ticks, system / ticks


def _server_cpu_by_kind(port: int) -> dict[str, float]:
    """`_server_cpu` split by process: the connections serving clients, each background
    process by its title (autovacuum, WAL writer, checkpointer …), the postmaster itself and
    its finished children (exited backends and autovacuum workers) — where a phase's CPU went."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats: dict[int, tuple[list[str], str]] = {}
    postmaster = None
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            stats[int(proc.name)] = (fields, argv[0].decode(errors="replace"))
            if b"-p" in argv and argv[argv.index(b"-p") + 1 : argv.index(b"-p") + 2] == [
                str(port).encode()
            ]:
                postmaster = int(proc.name)
        except (OSError, IndexError, ValueError):
            continue
    if postmaster is None:
        return {}
    own = stats[postmaster][0]
    kinds = {
        "postmaster": (int(own[11]) + int(own[12])) / ticks,
        "finished children": (int(own[13]) + int(own[14])) / ticks,
    }
    for fields, title in stats.values():
        if int(fields[1]) == postmaster:
            kind = "connections" if "(" in title else title.removeprefix("postgres: ")
            kinds[kind] = kinds.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return kinds


def _kinds_delta(after: dict[str, float], before: dict[str, float], per: int) -> str:
    return ", ".join(
        f"{kind} {(after[kind] - before.get(kind, 0.0)) * 1000 / max(1, per):.2f}"
        for kind in sorted(after)
        if after[kind] - before.get(kind, 0.0) > 0
    )


def _database_urls() -> tuple[str, str, str]:
    base = os.environ.get("MADOGUCHI_TEST_DATABASE_URL", "")
    if not base.startswith("postgres"):
        print("bench_booking_rush: set MADOGUCHI_TEST_DATABASE_URL=postgres://… to run (skipped)")
        raise SystemExit(0)
    parsed = urlparse(base)
    name = f"{parsed.path.lstrip('/') or 'madoguchi'}_bench"
    return base, urlunparse(parsed._replace(path=f"/{name}")), name


def _psql(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], env: dict[str, str], **kw: object) -> str:
    result = subprocess.run(
        args, env=env, cwd=REPO, capture_output=True, text=True, check=False, **kw
    )  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(args)}")
    return str(result.stdout)


def _wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/procedures")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _cpu_seconds(match: str) -> tuple[float, float]:
    """User + system CPU seconds of the processes whose command line contains `match`, from
    /proc (Linux; 0 elsewhere). A diagnostic: where a booking's CPU goes."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    user = system = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if match not in (proc / "cmdline").read_bytes().decode(errors="replace"):
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            user += int(fields[11])
            system += int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return user / ticks, system / ticks


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


STATEMENTS = os.environ.get("BENCH_STATEMENTS", "") == "1"
"""BENCH_STATEMENTS=1: print, per phase, the statements PostgreSQL ran per booking (calls,
execution + planning time) from `pg_stat_statements` — a diagnosis, for a server started with
`shared_preload_libraries = 'pg_stat_statements'` (and track_planning on for the planning
time); the extension's own bookkeeping costs CPU, so a measured run leaves it off."""


def _statements_reset(conn: Any) -> None:
    if STATEMENTS:
        conn.execute("SELECT pg_stat_statements_reset()")
        print("statements counted from", time.strftime("%H:%M:%S"), flush=True)


def _statements_report(conn: Any, phase: str, bookings: int) -> None:
    """The statements of the phase since `_statements_reset`, per booking, busiest first."""
    if not STATEMENTS:
        return
    rows = conn.execute(
        "SELECT calls, total_exec_time + total_plan_time, rows, query FROM pg_stat_statements"
        " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " ORDER BY total_exec_time + total_plan_time DESC"
    ).fetchall()
    per = max(1, bookings)
    print(
        f"Statements per booking, {phase} ({bookings} bookings, until {time.strftime('%H:%M:%S')}):"
    )
    print("| calls | ms (exec + plan) | rows | statement |")
    print("|---|---|---|---|")
    for calls, ms, count, query in rows[:25]:
        text = " ".join(str(query).split())[:150].replace("|", "¦")
        print(f"| {calls / per:.3f} | {ms / per:.3f} | {count / per:.2f} | {text} |")
    calls = sum(r[0] for r in rows)
    ms = sum(r[1] for r in rows)
    print(f"| {calls / per:.3f} | {ms / per:.3f} | | (all {len(rows)} statements) |")


def _quiesce(conn: Any) -> None:
    """Before a measured phase, outside it: VACUUM ANALYZE and a CHECKPOINT, so that the
    autovacuum and the checkpoint the previous phase's writes call for do not land in this
    phase's PostgreSQL CPU (a phase of 2,000 page bookings after one of 11,000 API bookings
    would pay five times over per booking for the other's clean-up). Every phase — pgbench
    before and after, the API rush, the page flow — starts the same way. `conn` stays open for
    the whole run: a connection closed here would add its backend's CPU to the postmaster's
    finished children when it is reaped, inside the next phase."""
    import psycopg

    conn.execute("VACUUM (ANALYZE)")
    try:
        conn.execute("CHECKPOINT")  # superuser or pg_checkpoint (PostgreSQL 15)
    except psycopg.Error as error:
        print(f"(no CHECKPOINT before the phase: {error})", file=sys.stderr)


def _settle(conn: Any, timeout: float = 60.0) -> float:
    """Wait until no audit event waits for the sealers; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if (
            conn.execute("SELECT 1 FROM core_auditevent WHERE seq IS NULL LIMIT 1").fetchone()
            is None
        ):
            break
        time.sleep(0.1)
    return time.monotonic() - started


def _drive_with_wrk(port: int, slots: list[int], workdir: Path) -> dict[str, float]:
    script = workdir / "booking.lua"
    script.write_text(WRK_SCRIPT.format(slots=", ".join(map(str, slots)), stride=HTTP_CARDS // 2))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(CLIENTS),
            "-d",
            f"{SECONDS}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, float] = {"201": 0, "409": 0, "other": 0}
    for line in out.splitlines():
        if line.startswith("DIST"):
            print("latency distribution:", line[5:])
        parts = line.split()
        if parts[:1] == ["STATUS"]:
            key = parts[1] if parts[1] in ("201", "409") else "other"
            result[key] += int(parts[2])
        elif parts and parts[0] in ("P50", "P99", "REQUESTS", "SECONDS", "ERRORS"):
            result[parts[0]] = float(parts[1])
    result["other"] += result.get("ERRORS", 0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk's own CPU, on the same cores
    result["wrk_user"] = after.ru_utime - before.ru_utime
    result["wrk_system"] = after.ru_stime - before.ru_stime
    return result


def _drive_pages(port: int, ids: dict[str, Any], workdir: Path) -> dict[str, float]:
    """The residents' page flow with wrk: one thread per connection (a resident per
    connection, step by step); counts bookings (the booking POST's redirect), full times and
    anything unexpected."""
    script = workdir / "pages.lua"
    script.write_text(
        PAGE_SCRIPT.format(
            slots=", ".join(map(str, ids["http"])),
            site=ids["site"],
            day=ids["day"],
            stride=PAGE_CARDS // CLIENTS,
        )
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        ["wrk", "-t", str(CLIENTS), "-c", str(CLIENTS), "-d", f"{SECONDS}s", "--timeout", "30s",
         "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, float] = {
        "wrk_user": after.ru_utime - before.ru_utime,
        "wrk_system": after.ru_stime - before.ru_stime,
    }
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("DIST"):
            print("page flow latency distribution:", line[5:])
        elif parts[:1] == ["PAGES"]:
            result |= {parts[i]: float(parts[i + 1]) for i in range(1, len(parts), 2)}
        elif parts and parts[0] in ("P50", "P99", "REQUESTS", "SECONDS", "ERRORS"):
            result[parts[0]] = float(parts[1])
    return result


def _drive_with_threads(port: int, slots: list[int]) -> dict[str, float]:
    """Fallback without wrk: Python threads (they compete with the server for the CPU)."""
    out: list[tuple[float, int]] = []
    stop_at = time.monotonic() + SECONDS
    stride = HTTP_CARDS // CLIENTS

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        rng = random.Random(index)
        for n in range(stride):
            if time.monotonic() > stop_at:
                break
            body = json.dumps(
                {
                    "slot_id": rng.choice(slots),
                    "procedure": "card_pickup",
                    "birth_date": "1980-01-01",
                    "notice_number": f"BEN{index * stride + n:06d}",
                }
            )
            started = time.perf_counter()
            try:
                conn.request(
                    "POST", "/api/v1/reservations", body, {"Content-Type": "application/json"}
                )
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            out.append((time.perf_counter() - started, status))

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies = [lat for lat, _ in out]
    return {
        "201": sum(1 for _, s in out if s == 201),
        "409": sum(1 for _, s in out if s == 409),
        "other": sum(1 for _, s in out if s not in (201, 409)),
        "P50": statistics.median(latencies) * 1000,
        "P99": _percentile(latencies, 0.99) * 1000,
        "REQUESTS": len(out),
        "SECONDS": time.perf_counter() - started,
    }


def _three_way(
    api: dict[str, float],
    flow: dict[str, float],
    cpu: dict[str, tuple[float, ...]],
    page_cpu: dict[str, tuple[float, ...]],
    pg_tps: float,
    pg_cpu_per_transaction: float,
    bad: list[Any],
    stored_api: int,
    stored_pages: int,
) -> bool:
    """The API rush, the residents' page flow and pgbench side by side; targets judged.

    wrk stops counting at the deadline while up to one request per client is still in flight:
    those bookings commit (their database work falls in the phase) but are not answered in
    time. pgbench counts every transaction it ran. So PostgreSQL's CPU is also given per
    booking STORED (`stored_*`: the reservations in the database after the phase)."""
    api_rate = api["201"] / api["SECONDS"]
    page_rate = flow.get("booked", 0) / flow["SECONDS"] if flow.get("SECONDS") else 0.0
    api_pg = sum(cpu["postgres"]) / max(1, api["201"])
    page_pg = sum(page_cpu["postgres"]) / max(1, flow.get("booked", 0))
    api_app = sum(cpu["gunicorn"]) / max(1, api["201"])
    page_app = sum(page_cpu["gunicorn"]) / max(1, flow.get("booked", 0))
    per_booking = flow.get("REQUESTS", 0) / max(1, flow.get("booked", 0))
    print()
    print("| | API rush | page flow | pgbench |")
    print("|---|---|---|---|")
    print(
        f"| bookings/s | {api_rate:.0f} ({api_rate / pg_tps:.0%} of pgbench) | {page_rate:.0f} "
        f"({page_rate / api_rate if api_rate else 0:.0%} of the API) | {pg_tps:.0f} tps |"
    )
    print(
        f"| requests (per booking) | {int(api['REQUESTS'])} (1) | {int(flow.get('REQUESTS', 0))} "
        f"({per_booking:.1f}: month, day, form, confirmation, booking, reservation page) | – |"
    )
    print(
        f"| full at the booking or confirmation | {int(api['409'])} | "
        f"{int(flow.get('full', 0))} | – |"
    )
    print(
        f"| latency per request p50 / p99 | {api['P50']:.0f} / {api['P99']:.0f} ms | "
        f"{flow.get('P50', float('nan')):.0f} / {flow.get('P99', float('nan')):.0f} ms | – |"
    )
    print(
        f"| PostgreSQL CPU per booking | {api_pg * 1000:.2f} ms "
        f"({api_pg / pg_cpu_per_transaction:.2f}×) | {page_pg * 1000:.2f} ms "
        f"({page_pg / pg_cpu_per_transaction:.2f}×) | {pg_cpu_per_transaction * 1000:.2f} ms |"
    )
    api_stored_pg = sum(cpu["postgres"]) / max(1, stored_api)
    page_stored_pg = sum(page_cpu["postgres"]) / max(1, stored_pages)
    print(
        f"| bookings stored (answered + committed after wrk's deadline) | {stored_api} "
        f"({api['201']:.0f} + {stored_api - api['201']:.0f}) | {stored_pages} "
        f"({flow.get('booked', 0):.0f} + {stored_pages - flow.get('booked', 0):.0f}) | – |"
    )
    print(
        f"| PostgreSQL CPU per booking stored | {api_stored_pg * 1000:.2f} ms "
        f"({api_stored_pg / pg_cpu_per_transaction:.2f}×) | {page_stored_pg * 1000:.2f} ms "
        f"({page_stored_pg / pg_cpu_per_transaction:.2f}×) | "
        f"{pg_cpu_per_transaction * 1000:.2f} ms |"
    )
    print(f"| gunicorn CPU per booking | {api_app * 1000:.1f} ms | {page_app * 1000:.1f} ms | – |")
    print(f"| overbooked or miscounted slots (all slots) | {len(bad)} | {len(bad)} | – |")
    met = (
        api_rate >= 0.25 * pg_tps
        and api["P99"] < 250
        and page_rate >= 0.20 * api_rate
        and flow.get("P99", float("inf")) < 300
        and not bad
    )
    print(
        "targets (API ≥ 25% of pgbench, p99 < 250 ms; page flow ≥ 20% of the API's bookings/s, "
        f"p99 < 300 ms per request; no overbooking): {'met' if met else 'MISSED'}"
    )
    return met


def main() -> None:
    admin_url, bench_url, bench_name = _database_urls()
    workers = int(WORKERS_SETTING) if WORKERS_SETTING else default_workers(bench_url)
    _psql(admin_url, f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
    _psql(admin_url, f'CREATE DATABASE "{bench_name}"')
    workdir = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
    (workdir / "bench_settings.py").write_text(
        "from madoguchi.settings import *  # noqa: F403\nMADOGUCHI_RATE_LIMITS = {}\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "MADOGUCHI_DATA_DIR": str(workdir),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([str(workdir), os.environ.get("PYTHONPATH", "")]),
        "MADOGUCHI_LOG_LEVEL": "ERROR",
    }
    gunicorn = None
    try:
        _run([str(BIN / "madoguchi"), "migrate", "--no-input", "-v", "0"], env)
        seed = f"import django\ndjango.setup()\n{SEED}"
        args = [LARGE_SLOTS, SMALL_SLOTS, SMALL_SEATS, HTTP_CARDS, PG_CARDS, PAGE_CARDS]
        out = _run([sys.executable, "-c", seed, *map(str, args)], env)
        ids = json.loads(out.strip().splitlines()[-1])

        import psycopg

        values = {
            **PGBENCH_VALUES,
            "municipality": str(ids["municipality"]),
            "procedure": str(ids["procedure"]),
        }
        script = workdir / "booking.sql"
        script.write_text(
            PGBENCH_SCRIPT.format(
                first=min(ids["pg"]),
                last=max(ids["pg"]),
                pg_cards=PG_CARDS,
                statement=ids["statement"] % values,  # the app's own statement, verbatim
            )
        )
        parsed = urlparse(bench_url)
        pg_env = {
            **os.environ,
            "PGHOST": parsed.hostname or "127.0.0.1",
            "PGPORT": str(parsed.port or 5432),
            "PGUSER": parsed.username or "postgres",
            "PGDATABASE": bench_name,
        }
        if parsed.password:
            pg_env["PGPASSWORD"] = parsed.password
        if not shutil.which(PGBENCH) and not Path(PGBENCH).exists():
            raise SystemExit(f"pgbench not found at {PGBENCH}")
        quiet = psycopg.connect(bench_url, autocommit=True)  # open until the end: see _quiesce
        _quiesce(quiet)
        pg_before, pg_done, pg_cpu = _pgbench(script, pg_env)  # and again after the HTTP run
        # pgbench's audit events are real rows: seal them now, not during the measured phase.
        _run([str(BIN / "madoguchi"), "audit-seal"], env)
        _quiesce(quiet)

        port = _free_port()
        gunicorn = subprocess.Popen(  # our own venv's gunicorn, loopback only
            [
                str(BIN / "gunicorn"),
                "madoguchi.wsgi:application",
                f"--bind=127.0.0.1:{port}",
                f"--workers={workers}",
                f"--worker-class={WORKER_CLASS}",
                f"--threads={THREADS}",
                "--backlog=2048",
                "--preload",  # as `madoguchi serve`: workers forked warm
                f"--access-logfile={workdir / 'access.log'}",  # serve logs every request too
                "--log-level=warning",
                # e.g. "-c profile.py" with post_worker_init/worker_exit hooks to profile a worker
                *os.environ.get("BENCH_GUNICORN_ARGS", "").split(),
            ],
            env=env,
            cwd=REPO,
        )
        _wait_for(port)
        driver = "wrk" if shutil.which("wrk") else "python threads"
        server_port = parsed.port or 5432
        # Each phase's CPU is counted until the background sealers have linked its audit
        # events, so neither phase pays for the other's sealing (polled on a connection opened
        # before, through the partial index of unsealed events).
        watcher = psycopg.connect(bench_url, autocommit=True)
        if STATEMENTS:
            watcher.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        _statements_reset(watcher)
        kinds_before = _server_cpu_by_kind(server_port)
        cpu_before = {"gunicorn": _cpu_seconds("gunicorn"), "postgres": _server_cpu(server_port)}
        if driver == "wrk":
            result = _drive_with_wrk(port, ids["http"], workdir)
        else:
            result = _drive_with_threads(port, ids["http"])
        sealing = _settle(watcher)
        kinds_api = _server_cpu_by_kind(server_port)
        cpu_after_http = {
            "gunicorn": _cpu_seconds("gunicorn"),
            "postgres": _server_cpu(server_port),
        }
        cpu = {
            name: tuple(a - b for a, b in zip(cpu_after_http[name], cpu_before[name], strict=True))
            for name in cpu_before
        }
        cpu["driver"] = (
            result.get("wrk_user", float("nan")),
            result.get("wrk_system", float("nan")),
        )
        _statements_report(watcher, "API rush", int(result["201"]))
        # The residents' page flow, the same server right after (issue 16 item 3).
        _quiesce(quiet)
        _statements_reset(watcher)
        kinds_pages_before = _server_cpu_by_kind(server_port)
        page_cpu_before = {
            "gunicorn": _cpu_seconds("gunicorn"),
            "postgres": _server_cpu(server_port),
        }
        flow = _drive_pages(port, ids, workdir) if driver == "wrk" else {}
        page_sealing = _settle(watcher)
        kinds_pages = _server_cpu_by_kind(server_port)
        _statements_report(watcher, "page flow", int(flow.get("booked", 0)))
        print(
            "PostgreSQL CPU per booking by process (ms), API rush:",
            _kinds_delta(kinds_api, kinds_before, int(result["201"])),
        )
        print(
            "PostgreSQL CPU per booking by process (ms), page flow:",
            _kinds_delta(kinds_pages, kinds_pages_before, int(flow.get("booked", 0))),
        )
        watcher.close()
        print(
            f"sealed after the API rush in {sealing:.1f} s, after the page flow in "
            f"{page_sealing:.1f} s"
        )
        page_cpu = {
            name: tuple(
                a - b
                for a, b in zip(
                    (_cpu_seconds("gunicorn") if name == "gunicorn" else _server_cpu(server_port)),
                    page_cpu_before[name],
                    strict=True,
                )
            )
            for name in page_cpu_before
        }
        page_cpu["driver"] = (
            flow.get("wrk_user", float("nan")),
            flow.get("wrk_system", float("nan")),
        )
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        gunicorn = None

        with psycopg.connect(bench_url) as conn:
            unsealed = conn.execute(
                "SELECT count(*) FROM core_auditevent WHERE seq IS NULL"
            ).fetchone()
        _quiesce(quiet)
        pg_after, done_after, cpu_after = _pgbench(script, pg_env)
        quiet.close()
        pg_tps = (pg_before + pg_after) / 2
        pg_cpu_per_transaction = (pg_cpu + cpu_after) / max(1, pg_done + done_after)

        with psycopg.connect(bench_url) as conn:
            bad = conn.execute(
                """
                SELECT s.id, s.capacity, s.booked, count(r.id)
                FROM reservations_slot s
                LEFT JOIN reservations_reservation r ON r.slot_id = s.id AND r.status <> 'cancelled'
                GROUP BY s.id HAVING count(r.id) > s.capacity OR count(r.id) <> s.booked
                """
            ).fetchall()
            stored = conn.execute(
                "SELECT count(*) FROM reservations_reservation WHERE group_code <> 'PGBENCH'"
                " AND channel = 'api'"
            ).fetchone()
            stored_pages = conn.execute(
                "SELECT count(*) FROM reservations_reservation WHERE channel = 'web'"
            ).fetchone()
            small_full = conn.execute(
                "SELECT count(*) FROM reservations_slot WHERE id = ANY(%s) AND booked = capacity",
                [ids["small"]],
            ).fetchone()

        seconds = result["SECONDS"]
        booked = int(result["201"])
        http_rate = booked / seconds
        print()
        print(
            f"Booking rush: {CLIENTS} clients ({driver}) for {seconds:.0f} s, gunicorn "
            f"{workers} {WORKER_CLASS} workers × {THREADS} threads, PostgreSQL, "
            f"{os.cpu_count()} cores; Python {platform.python_version()} from {sys.base_prefix}; "
            f"booking path: {os.environ.get('MADOGUCHI_BOOKING_PATH', 'statement')}"
        )
        rows = [
            (
                "requests (201 / 409 / other)",
                f"{int(result['REQUESTS'])} ({booked} / {int(result['409'])} / "
                f"{int(result['other'])})",
            ),
            ("HTTP bookings/s (201 only)", f"{http_rate:.0f}"),
            ("HTTP requests/s", f"{result['REQUESTS'] / seconds:.0f}"),
            ("latency p50 / p99", f"{result['P50']:.0f} ms / {result['P99']:.0f} ms"),
            (
                "pgbench, same transaction, -c 64 -j 2, mean of 10 s before and 10 s after",
                f"{pg_tps:.0f} tps (before {pg_before:.0f}, after {pg_after:.0f})",
            ),
            ("ratio HTTP bookings/s ÷ pgbench tps", f"{http_rate / pg_tps:.1%}"),
            (
                "CPU per request (user + system): gunicorn / PostgreSQL / load generator",
                " / ".join(
                    f"{cpu[n][0] / result['REQUESTS'] * 1000:.1f} + "
                    f"{cpu[n][1] / result['REQUESTS'] * 1000:.1f} ms"
                    for n in ("gunicorn", "postgres", "driver")
                ),
            ),
            (
                "PostgreSQL CPU per HTTP request ÷ per pgbench transaction",
                f"{sum(cpu['postgres']) / result['REQUESTS'] * 1000:.2f} ms ÷ "
                f"{pg_cpu_per_transaction * 1000:.2f} ms = "
                f"{sum(cpu['postgres']) / result['REQUESTS'] / pg_cpu_per_transaction:.2f}×",
            ),
            (
                "small slots filled to capacity",
                f"{small_full[0] if small_full else '?'} of {len(ids['small'])}",
            ),
            (
                "overbooked or miscounted slots",
                f"{len(bad)} (HTTP reservations stored: {stored[0] if stored else '?'})",
            ),
            ("audit events left unsealed after the run", f"{unsealed[0] if unsealed else '?'}"),
        ]
        print("| measure | value |")
        print("|---|---|")
        for name, value in rows:
            print(f"| {name} | {value} |")
        # wrk stops counting at the deadline while up to CLIENTS requests are still in flight
        # (they commit; their answers go uncounted), so stored may exceed the 201s by that much.
        in_flight_ok = stored is not None and booked <= stored[0] <= booked + CLIENTS
        page_booked = int(flow.get("booked", 0))
        pages_ok = driver != "wrk" or (
            stored_pages is not None and page_booked <= stored_pages[0] <= page_booked + CLIENTS
        )
        met = _three_way(
            result,
            flow,
            cpu,
            page_cpu,
            pg_tps,
            pg_cpu_per_transaction,
            bad,
            stored_api=int(stored[0]) if stored else 0,
            stored_pages=int(stored_pages[0]) if stored_pages else 0,
        )
        if bad or result["other"] or not in_flight_ok or not pages_ok or flow.get("bad", 0):
            raise SystemExit(
                f"FAILED: {len(bad)} bad slots, {int(result['other'])} unexpected API "
                f"responses, {int(flow.get('bad', 0))} unexpected page answers, stored "
                f"{stored} / {stored_pages}"
            )
        finish(met)
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            _psql(admin_url, f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
        except Exception as error:  # cleanup must not hide the result
            print(f"(could not drop {bench_name}: {error})", file=sys.stderr)


if __name__ == "__main__":
    main()
