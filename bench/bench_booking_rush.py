"""Booking rush: 64 concurrent HTTP clients POST /api/v1/reservations against PostgreSQL.

Starts gunicorn on loopback against a fresh database (`<MADOGUCHI_TEST_DATABASE_URL's db>_bench`),
seeds one site, 50 hot card_pickup slots (48 large, 2 small that fill up during the run, so the
capacity guard is exercised under load) and cards with notices, then drives the API with `wrk`
(64 keep-alive connections, each request a different notice number on a random hot slot) for
BENCH_SECONDS. Without `wrk` on PATH (Debian package `wrk`) it falls back to 64 Python threads,
which spend much of the 2 cores themselves.

Baseline, in the same run (10 s before and 10 s after each round, averaged): pgbench drives
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

Rounds (BENCH_ROUNDS, 3; 1 in a smoke run): pgbench, then each round the API rush, the page
flow and pgbench again, gunicorn kept running; each flow's PostgreSQL CPU per booking stored is
set against the two pgbench runs around it, and the median round is reported — the baseline
itself moved by ±20% between runs minutes apart. Each pgbench client books its own cards one
after another, as the app's clients do (a card picked at random twice is found booked, and that
transaction, which writes nothing, made later baselines cheaper). Every phase also prints the
database's own counters per booking stored (`pg_stat_database`, `pg_stat_user_tables`:
transactions, blocks, rows read and written) — counts that do not depend on the machine's load.
BENCH_PIN=1 puts PostgreSQL on a core of its own, the app and the load generators on the
others. BENCH_PHASES=1 then drives each step of the page flow alone (BENCH_STATEMENTS=1 adds
`pg_stat_statements` per step, on a server that preloads it): a diagnosis, not a measured run.

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
ROUNDS = int(os.environ.get("BENCH_ROUNDS", str(size(3, 1))))
"""The API rush and the page flow are measured ROUNDS times, each round between two pgbench
runs: each flow's PostgreSQL CPU is set against the pgbench runs just before and after it (the
baseline moved by ±20% between runs minutes apart), and the median round is reported."""
HTTP_CARDS = int(os.environ.get("BENCH_HTTP_CARDS", str(size(40_000, 2_000) * ROUNDS)))
PG_CARDS = size(40_000, 10_000) * (2 * ROUNDS + 1)
PAGE_CARDS = size(20_000, 1_000) * ROUNDS
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
local stride, offset = {stride}, {offset}
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
  local n = id * stride + offset + counter
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

PAGE_HELPERS = """
-- What the page flow and its steps alone share: the cookies a resident's browser sends, the
-- identify form it posts, a cookie read from an answer. Pasted after each script's locals
-- (csrf, kept, notice), which these functions read.
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
local function cookie(headers, name)
  local value = headers["Set-Cookie"] or headers["set-cookie"]
  return value and value:match(name .. "=([^;]+)")
end
"""

PAGE_SCRIPT = (
    """
-- The residents' flow from the notice's QR code, one resident at a time per connection (wrk
-- runs one thread per connection here, so request() and response() alternate): the month
-- calendar, the day's times, the form, the confirmation page, the booking, the reservation
-- page; then the next resident (a new notice number, no cookies).
local slots = {{{slots}}}
local site, day, stride, offset = {site}, "{day}", {stride}, {offset}
local threads = {{}}
local counter, state = 0, 1
local notice, slot, csrf, token, kept, code
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
local function begin()
  notice = string.format("PAG%06d", id * stride + offset + counter)
  counter = counter + 1
  slot = slots[math.random(#slots)]
  csrf, token, kept, code, state = nil, nil, nil, nil, 1
end
function init(args)
  math.randomseed(id + 1)
  booked, full, bad, flows = 0, 0, 0, 0
  begin()
end
"""
    + PAGE_HELPERS
    + """
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
)

PHASE_SCRIPT = (
    """
-- One step of the residents' flow, repeated (BENCH_PHASES=1: where PostgreSQL's work goes per
-- step). wrk runs one thread per connection, so request() and response() alternate. A
-- connection first fetches its CSRF cookie (one month page) when the step needs one.
local slots = {{{slots}}}
local site, day, stride, offset, phase = {site}, "{day}", {stride}, {offset}, "{phase}"
local threads = {{}}
local counter, csrf, token, kept, code, state = 0, nil, nil, nil, nil, 0
local notice, slot
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
local function next_resident()
  notice = string.format("PAG%06d", id * stride + offset + counter)
  counter = counter + 1
  slot = slots[math.random(#slots)]
end
function init(args)
  math.randomseed(id + 101)
  units, bad = 0, 0
  next_resident()
end
"""
    + PAGE_HELPERS
    + """
local function month()
  return wrk.format("GET", "/book/card_pickup/" .. site .. "/?notice=" .. notice, cookies())
end
function request()
  local q = "?notice=" .. notice
  local url = "/book/card_pickup/slot/" .. slot .. "/"
  if phase == "month" or (csrf == nil and phase ~= "day" and phase ~= "form") then
    return month()
  elseif phase == "day" then
    return wrk.format("GET", "/book/card_pickup/" .. site .. "/" .. day .. "/" .. q, cookies())
  elseif phase == "form" then
    return wrk.format("GET", url .. q, cookies())
  elseif state == 0 then  -- the confirmation page
    return wrk.format("POST", url, cookies(), form())
  elseif state == 1 then  -- the booking
    return wrk.format("POST", url, cookies(), form() .. "&step=confirm&token=" .. token)
  else  -- the reservation page it redirects to
    return wrk.format("GET", "/reservation/" .. code .. "/", cookies())
  end
end
function response(status, headers, body)
  if csrf == nil and phase ~= "day" and phase ~= "form" then
    csrf = cookie(headers, "csrftoken")
    if phase == "month" then units = units + 1; next_resident() end
    return
  end
  if phase == "month" or phase == "day" or phase == "form" then
    if status == 200 then units = units + 1 else bad = bad + 1 end
    next_resident()
  elseif state == 0 then
    token = status == 200 and body:match('name="token" value="([^"]+)"')
    if not token then bad = bad + 1; next_resident(); return end
    if phase == "confirmation" then units = units + 1; next_resident() else state = 1 end
  elseif state == 1 then
    kept = cookie(headers, "madoguchi_resident")
    code = (headers["Location"] or ""):match("/reservation/([^/]+)/")
    if status == 302 and kept and code then
      state = 2
    else
      bad = bad + 1; state = 0; next_resident()
    end
  else
    if status == 200 then units = units + 1 else bad = bad + 1 end
    state = 0
    next_resident()
  end
end
function done(summary, latency, requests)
  local t = {{units = 0, bad = 0}}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(t) do t[name] = t[name] + thread:get(name) end
  end
  io.write(string.format("UNITS %d BAD %d REQUESTS %d\\n", t.units, t.bad, summary.requests))
end
"""
)


PGBENCH_SCRIPT = """\\set slot random({first}, {last})
\\set n :n + 1
\\set card 1 + :client_id * {per_client} + :n
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


def _pgbench(script: Path, env: dict[str, str], run: int) -> tuple[float, int, float, float]:
    """pgbench's tps, its transactions, the database server's CPU seconds meanwhile and of
    those the system (kernel) seconds.

    Each client books its own cards one after another (`:n` counts its transactions; run
    `run` starts at its own share of each client's cards), as the app's clients do: a card
    picked at random again would be found booked, and that transaction — which writes
    nothing — would make pgbench's average cheaper the more runs came before."""
    cpu_before = _server_cpu(int(env["PGPORT"]))
    share = PG_CARDS // CLIENTS // (2 * ROUNDS + 1)
    # The simple query protocol, as psycopg's client-side binding cursors (Django's default).
    out = _run(
        [PGBENCH, "-n", "-f", str(script), "-c", str(CLIENTS), "-D", f"n={run * share}",
         *PG_LOAD],
        env,
    )  # fmt: skip
    cpu_after = _server_cpu(int(env["PGPORT"]))
    cpu, system = sum(cpu_after) - sum(cpu_before), cpu_after[1] - cpu_before[1]
    tps = re.search(r"tps = ([0-9.]+)", out)
    done = re.search(r"number of transactions actually processed: ([0-9]+)", out)
    tps_value = float(tps.group(1)) if tps else float("nan")
    return tps_value, int(done.group(1) if done else 0), cpu, system


PIN = os.environ.get("BENCH_PIN", "") == "1"
"""BENCH_PIN=1 (Linux, two cores or more): PostgreSQL's processes on the first core, this
script and everything it starts (gunicorn, wrk, pgbench) on the others — as in production, where
the app servers are not on the database's cores, and so that the app's Python does not evict
the database's caches between its statements. For a local server this script may re-pin; its
processes get every core back at the end."""


def _server_processes(port: int) -> list[int]:
    """The postmaster listening on `port` and its children."""
    postmaster, parents = None, {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(proc.name)] = int(fields[1])
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if b"-p" in argv and argv[argv.index(b"-p") + 1 : argv.index(b"-p") + 2] == [
                str(port).encode()
            ]:
                postmaster = int(proc.name)
        except (OSError, IndexError, ValueError):
            continue
    if postmaster is None:
        return []
    return [postmaster, *(pid for pid, parent in parents.items() if parent == postmaster)]


def _pin(port: int, database: set[int] | None) -> None:
    """PostgreSQL's processes (new backends inherit the postmaster's) on `database`, this
    process and its future children on the other cores; `None`: every core back to both."""
    cores = set(range(os.cpu_count() or 1))
    for pid in _server_processes(port):
        try:
            os.sched_setaffinity(pid, database or cores)
        except OSError:  # a backend that just ended
            continue
    os.sched_setaffinity(0, (cores - database) if database else cores)


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


STARTS_WITHIN_SECONDS = 120
"""Only a server that never starts waits this long: a loaded CI machine may take tens of
seconds to warm the workers, which is not what a benchmark's smoke run checks."""


def _wait_for(port: int, timeout: float = STARTS_WITHIN_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/procedures")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start within {timeout:.0f} s")


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
        "SELECT calls, total_exec_time + total_plan_time, rows, shared_blks_hit + shared_blks_read,"
        " query FROM pg_stat_statements"
        " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " ORDER BY total_exec_time + total_plan_time DESC"
    ).fetchall()
    per = max(1, bookings)
    print(
        f"Statements per booking, {phase} ({bookings} bookings, until {time.strftime('%H:%M:%S')}):"
    )
    print("| calls | ms (exec + plan) | rows | blocks | statement |")
    print("|---|---|---|---|---|")
    for calls, ms, count, blocks, query in rows[:25]:
        text = " ".join(str(query).split())[:150].replace("|", "¦")
        print(
            f"| {calls / per:.3f} | {ms / per:.3f} | {count / per:.2f} | {blocks / per:.1f} "
            f"| {text} |"
        )
    calls = sum(r[0] for r in rows)
    ms = sum(r[1] for r in rows)
    print(f"| {calls / per:.3f} | {ms / per:.3f} | | | (all {len(rows)} statements) |")


PHASES = os.environ.get("BENCH_PHASES", "") == "1"
"""BENCH_PHASES=1: after the page flow, drive each step of it alone (month, day, form,
confirmation, booking with the reservation page) and measure an idle interval, each for
BENCH_PHASE_SECONDS, printing PostgreSQL's work per step — a diagnosis, not a measured run."""
PHASE_SECONDS = int(os.environ.get("BENCH_PHASE_SECONDS", str(size(10, 2))))

DB_COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "blks_hit",
    "blks_read",
    "tup_returned",
    "tup_fetched",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
    "sessions",
)


STATS_LAG = 11.0
"""Seconds until every idle backend has published its counters: PostgreSQL 15 publishes a
backend's at most once a second, and one that went idle within a second of its last publishing
waits 10 s (PGSTAT_IDLE_INTERVAL) — read sooner, a phase's last second lands in the next one's
counts. Ended backends (pgbench's) publish as they exit."""


def _db_counters(conn: Any, lag: float = 1.5) -> dict[str, float]:
    """The database's own cumulative counters (`pg_stat_database`): transactions, blocks, rows,
    connections opened. Counts, not times: they do not depend on the machine's load. Read after
    `lag` seconds (STATS_LAG after the app's phases: its connections stay open)."""
    time.sleep(lag)
    row = conn.execute(
        f"SELECT {', '.join(DB_COUNTERS)} FROM pg_stat_database WHERE datname = current_database()"
    ).fetchone()
    return dict(zip(DB_COUNTERS, (float(v) for v in row), strict=True))


TABLE_COUNTERS = ("seq_scan", "seq_tup_read", "idx_scan", "idx_tup_fetch", "n_tup_ins", "n_tup_upd")


def _table_counters(conn: Any) -> dict[str, tuple[float, ...]]:
    """Per table: scans and the rows they read, rows inserted and updated (pg_stat_user_tables),
    read after `_db_counters` has waited for the backends to publish theirs."""
    rows = conn.execute(
        f"SELECT relname, {', '.join(TABLE_COUNTERS)} FROM pg_stat_user_tables"
    ).fetchall()
    return {row[0]: tuple(float(v or 0) for v in row[1:]) for row in rows}


def _tables_per(
    after: dict[str, tuple[float, ...]], before: dict[str, tuple[float, ...]], per: float
) -> str:
    parts = []
    for table in sorted(after):
        delta = [
            (a - b) / max(1.0, per)
            for a, b in zip(after[table], before.get(table, (0.0,) * 6), strict=True)
        ]
        if any(v >= 0.005 for v in delta):
            values = ", ".join(
                f"{name} {v:.2f}" for name, v in zip(TABLE_COUNTERS, delta, strict=True) if v
            )
            parts.append(f"{table}: {values}")
    return "; ".join(parts)


def _counts_per(after: dict[str, float], before: dict[str, float], per: float) -> str:
    d = {name: (after[name] - before[name]) / max(1.0, per) for name in DB_COUNTERS}
    return (
        f"{d['xact_commit'] + d['xact_rollback']:.2f} transactions, {d['blks_hit']:.1f} blocks hit"
        f" ({d['blks_read']:.2f} read), {d['tup_returned'] + d['tup_fetched']:.1f} rows read, "
        f"{d['tup_inserted'] + d['tup_updated'] + d['tup_deleted']:.2f} rows written, "
        f"{d['sessions']:.3f} connections opened"
    )


def _statement_rows(conn: Any) -> list[tuple[Any, ...]]:
    return list(
        conn.execute(
            "SELECT calls, total_exec_time + total_plan_time, rows, shared_blks_hit"
            " + shared_blks_read, query FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND query NOT LIKE '%pg_stat%' ORDER BY calls DESC"
        ).fetchall()
    )


def _attribute_phases(
    port: int, ids: dict[str, Any], workdir: Path, conn: Any, server_port: int
) -> None:
    """Each step of the page flow driven alone, and an idle interval: PostgreSQL's backend CPU
    (`/proc`, by process kind), the database's counters and, with BENCH_STATEMENTS=1, each
    statement's calls, rows and blocks per step (per second for the idle interval)."""
    stride = PAGE_CARDS // CLIENTS
    lines = []
    for phase in ("idle", "month", "day", "form", "confirmation", "booking"):
        if STATEMENTS:
            conn.execute("SELECT pg_stat_statements_reset()")
        counters = _db_counters(conn)
        kinds = _server_cpu_by_kind(server_port)
        if phase == "idle":
            time.sleep(PHASE_SECONDS)
            units, requests, bad = float(PHASE_SECONDS), 0, 0
        else:
            script = workdir / f"phase-{phase}.lua"
            script.write_text(
                PHASE_SCRIPT.format(
                    slots=", ".join(map(str, ids["http"][:LARGE_SLOTS])),
                    site=ids["site"],
                    day=ids["day"],
                    stride=stride,
                    offset=ROUNDS * (stride // (ROUNDS + 1)),
                    phase=phase,
                )
            )
            out = subprocess.run(
                ["wrk", "-t", str(CLIENTS), "-c", str(CLIENTS), "-d", f"{PHASE_SECONDS}s",
                 "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{port}"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            found = re.search(r"UNITS (\d+) BAD (\d+) REQUESTS (\d+)", out)
            units, bad, requests = (int(v) for v in found.groups()) if found else (0, 0, 0)
            _settle(conn)
        after = _db_counters(conn, STATS_LAG)
        kinds_after = _server_cpu_by_kind(server_port)
        unit = "second" if phase == "idle" else "booking" if phase == "booking" else "request"
        connections = kinds_after.get("connections", 0.0) - kinds.get("connections", 0.0)
        other = sum(kinds_after.values()) - sum(kinds.values()) - connections
        per = max(1.0, units)
        lines.append(
            f"| {phase} | {units:.0f} {unit}s ({requests} requests, {bad} unexpected) | "
            f"{connections / per * 1000:.3f} + {other / per * 1000:.3f} ms | "
            f"{_counts_per(after, counters, per)} |"
        )
        if STATEMENTS:
            rows = _statement_rows(conn)
            print(f"Statements per {unit}, {phase} alone ({units:.0f}):")
            print("| calls | ms (exec + plan) | rows | blocks | statement |")
            print("|---|---|---|---|---|")
            for calls, ms, count, blocks, query in rows[:12]:
                text = " ".join(str(query).split())[:140].replace("|", "¦")
                print(
                    f"| {calls / per:.3f} | {ms / per:.3f} | {count / per:.2f} | "
                    f"{blocks / per:.1f} | {text} |"
                )
            print(
                f"| {sum(r[0] for r in rows) / per:.3f} | {sum(r[1] for r in rows) / per:.3f} | "
                f"{sum(r[2] for r in rows) / per:.2f} | {sum(r[3] for r in rows) / per:.1f} | "
                f"(all {len(rows)} statements) |"
            )
    print(f"Each step of the page flow alone, {PHASE_SECONDS} s each, {CLIENTS} clients:")
    print(
        "| step | units | PostgreSQL CPU per unit: connections + other processes"
        " | counts per unit |"
    )
    print("|---|---|---|---|")
    print("\n".join(lines))


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


def _drive_with_wrk(port: int, slots: list[int], workdir: Path, run: int) -> dict[str, float]:
    script = workdir / "booking.lua"
    stride = HTTP_CARDS // 2
    script.write_text(
        WRK_SCRIPT.format(
            slots=", ".join(map(str, slots)), stride=stride, offset=run * (stride // ROUNDS)
        )
    )
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


def _drive_pages(port: int, ids: dict[str, Any], workdir: Path, run: int) -> dict[str, float]:
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
            offset=run * (PAGE_CARDS // CLIENTS // (ROUNDS + 1)),
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


def _drive_with_threads(port: int, slots: list[int], run: int) -> dict[str, float]:
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
                    "notice_number": f"BEN{index * stride + run * (stride // ROUNDS) + n:06d}",
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
    pg_system_per_transaction: float,
) -> None:
    """The API rush, the residents' page flow and pgbench side by side.

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
    api_system = cpu["postgres"][1] / max(1, stored_api)
    page_system = page_cpu["postgres"][1] / max(1, stored_pages)
    print(
        "| of which in the kernel (system time: sockets, wake-ups — what callgrind's count of "
        f"PostgreSQL's instructions leaves out) | {api_system * 1000:.2f} ms | "
        f"{page_system * 1000:.2f} ms | {pg_system_per_transaction * 1000:.2f} ms |"
    )
    print(f"| gunicorn CPU per booking | {api_app * 1000:.1f} ms | {page_app * 1000:.1f} ms | – |")
    print(f"| overbooked or miscounted slots (all slots) | {len(bad)} | {len(bad)} | – |")


def _baseline(
    quiet: Any, script: Path, pg_env: dict[str, str], env: dict[str, str], run: int
) -> dict[str, Any]:
    """One pgbench run, quiesced before; pgbench's audit events sealed after it, outside any
    measured phase (they are real rows)."""
    _quiesce(quiet)
    counts, tables = _db_counters(quiet), _table_counters(quiet)
    tps, done, cpu, system = _pgbench(script, pg_env, run)
    counts_done, tables_done = _db_counters(quiet), _table_counters(quiet)
    _run([str(BIN / "madoguchi"), "audit-seal"], env)
    return {
        "tps": tps,
        "done": done,
        "cpu": cpu,
        "system": system,
        "counts": _counts_per(counts_done, counts, done),
        "tables": _tables_per(tables_done, tables, done),
    }


def _stored(conn: Any, where: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM reservations_reservation WHERE {where}").fetchone()
    return int(row[0]) if row else 0


def _phase(
    watcher: Any,
    server_port: int,
    name: str,
    drive: Any,
    booked_key: str,
    stored_where: str,
) -> dict[str, Any]:
    """One measured phase of the app: the CPU of gunicorn and PostgreSQL (until the sealers have
    linked the phase's audit events), the database's counters per booking stored."""
    stored_before = _stored(watcher, stored_where)
    counts, tables = _db_counters(watcher), _table_counters(watcher)
    _statements_reset(watcher)
    kinds = _server_cpu_by_kind(server_port)
    before = {"gunicorn": _cpu_seconds("gunicorn"), "postgres": _server_cpu(server_port)}
    result = drive()
    unsealed_cpu = sum(_server_cpu(server_port))
    sealing = _settle(watcher)
    kinds_after = _server_cpu_by_kind(server_port)
    after = {"gunicorn": _cpu_seconds("gunicorn"), "postgres": _server_cpu(server_port)}
    cpu = {
        key: tuple(a - b for a, b in zip(after[key], before[key], strict=True)) for key in before
    }
    cpu["driver"] = (result.get("wrk_user", float("nan")), result.get("wrk_system", float("nan")))
    booked = int(result.get(booked_key, 0))
    # With MADOGUCHI_AUDIT_SEAL_MS longer than the phase, the sealers link nothing until it
    # has ended: what PostgreSQL spent after it is the sealing (a diagnosis of its share).
    catch_up = sum(after["postgres"]) - unsealed_cpu
    _statements_report(watcher, name, booked)
    counts_done, tables_done = _db_counters(watcher, STATS_LAG), _table_counters(watcher)
    stored = _stored(watcher, stored_where) - stored_before
    return {
        "result": result,
        "cpu": cpu,
        "booked": booked,
        "stored": stored,
        "sealing": sealing,
        "kinds": _kinds_delta(kinds_after, kinds, booked),
        "catch_up": catch_up,
        "counts": _counts_per(counts_done, counts, stored),
        "tables": _tables_per(tables_done, tables, stored),
    }


def _problems(measured: dict[str, Any]) -> list[str]:
    """What makes a round's figures wrong: unexpected answers, bookings stored that wrk did
    not see answered beyond the one request per client in flight at its deadline."""
    api, pages = measured["api"], measured["pages"]
    problems = []
    if api["result"].get("other"):
        problems.append(f"{int(api['result']['other'])} unexpected API responses")
    if pages["result"].get("bad"):
        problems.append(f"{int(pages['result']['bad'])} unexpected page answers")
    for name, phase in (("API", api), ("page flow", pages)):
        if phase["result"] and not phase["booked"] <= phase["stored"] <= phase["booked"] + CLIENTS:
            problems.append(f"{name}: {phase['booked']} answered, {phase['stored']} stored")
    return problems


def _pg_ratio(phase: dict[str, Any], pg_cpu: float) -> float:
    """PostgreSQL CPU per booking stored ÷ pgbench's per transaction."""
    return sum(phase["cpu"]["postgres"]) / max(1, phase["stored"]) / pg_cpu


def _report(
    rounds: list[dict[str, Any]],
    baselines: list[dict[str, Any]],
    bad: list[Any],
    small_full: Any,
    unsealed: Any,
    workers: int,
    driver: str,
) -> bool:
    """Each round's figures, the median round's three-way table, the targets judged on the
    medians over the rounds."""
    print()
    print(
        f"Booking rush: {CLIENTS} clients ({driver}) for {SECONDS} s per phase, {ROUNDS} rounds, "
        f"gunicorn {workers} {WORKER_CLASS} workers × {THREADS} threads, PostgreSQL, "
        f"{os.cpu_count()} cores; Python {platform.python_version()} from {sys.base_prefix}; "
        f"booking path: {os.environ.get('MADOGUCHI_BOOKING_PATH', 'statement')}"
    )
    print("Counts per booking stored / per pgbench transaction (pg_stat_database; load-free):")
    for n, baseline in enumerate(baselines):
        print(f"- pgbench run {n}: {baseline['counts']}")
    for n, measured in enumerate(rounds):
        for key, name in (("api", "API rush"), ("pages", "page flow")):
            print(f"- round {n + 1}, {name}: {measured[key]['counts']}")
    print("Per table, per booking stored (pg_stat_user_tables), round 1:")
    print(f"- pgbench run 0: {baselines[0]['tables']}")
    for key, name in (("api", "API rush"), ("pages", "page flow")):
        print(f"- {name}: {rounds[0][key]['tables']}")
    for n, measured in enumerate(rounds):
        for key, name in (("api", "API rush"), ("pages", "page flow")):
            print(
                f"PostgreSQL CPU per booking by process (ms), round {n + 1}, {name}: "
                f"{measured[key]['kinds']} (sealed {measured[key]['sealing']:.1f} s after; "
                f"PostgreSQL's CPU meanwhile "
                f"{measured[key]['catch_up'] * 1000 / max(1, measured[key]['stored']):.2f} ms "
                "per booking stored)"
            )
    rows = []
    for measured in rounds:
        api, pages = measured["api"], measured["pages"]
        api_rate = api["booked"] / api["result"]["SECONDS"]
        page_rate = (
            pages["booked"] / pages["result"]["SECONDS"] if pages["result"].get("SECONDS") else 0.0
        )
        rows.append(
            {
                "pg_tps": measured["pg_tps"],
                "pg_cpu": measured["pg_cpu"] * 1000,
                "api_share": api_rate / measured["pg_tps"],
                "api_p99": api["result"]["P99"],
                "api_ratio": _pg_ratio(api, measured["pg_cpu"]),
                "page_share": page_rate / api_rate if api_rate else 0.0,
                "page_p99": pages["result"].get("P99", float("inf")),
                "page_ratio": _pg_ratio(pages, measured["pg_cpu"]) if pages["stored"] else 0.0,
                "page_over_api": (
                    _pg_ratio(pages, measured["pg_cpu"]) / _pg_ratio(api, measured["pg_cpu"])
                    if pages["stored"]
                    else 0.0
                ),
            }
        )
    print()
    print(
        "| round | pgbench tps (runs around it) | pgbench PostgreSQL CPU per transaction | "
        "API: % of pgbench, p99 | API: PostgreSQL CPU per booking stored ÷ pgbench's | "
        "page flow: % of the API, p99 per request | page flow: PostgreSQL CPU per booking "
        "stored ÷ pgbench's (÷ the API's) |"
    )
    print("|---|---|---|---|---|---|---|")

    def line(label: str, r: dict[str, float]) -> str:
        return (
            f"| {label} | {r['pg_tps']:.0f} | {r['pg_cpu']:.2f} ms | {r['api_share']:.0%}, "
            f"{r['api_p99']:.0f} ms | {r['api_ratio']:.2f}× | {r['page_share']:.0%}, "
            f"{r['page_p99']:.0f} ms | **{r['page_ratio']:.2f}×** ({r['page_over_api']:.2f}×) |"
        )

    for n, r in enumerate(rows):
        print(line(str(n + 1), r))
    median = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    print(line("median", median))
    print(
        f"small slots filled to capacity: {small_full[0] if small_full else '?'}; overbooked or "
        f"miscounted slots (all): {len(bad)}; audit events left unsealed: "
        f"{unsealed[0] if unsealed else '?'}"
    )
    chosen = sorted(range(len(rows)), key=lambda n: rows[n]["page_ratio"])[len(rows) // 2]
    measured = rounds[chosen]
    print(f"The median round ({chosen + 1}) in full:")
    _three_way(
        measured["api"]["result"],
        measured["pages"]["result"],
        measured["api"]["cpu"],
        measured["pages"]["cpu"],
        measured["pg_tps"],
        measured["pg_cpu"],
        bad,
        stored_api=measured["api"]["stored"],
        stored_pages=measured["pages"]["stored"],
        pg_system_per_transaction=measured["pg_system"],
    )
    met = (
        median["api_share"] >= 0.25
        and median["api_p99"] < 250
        and median["page_share"] >= 0.20
        and median["page_p99"] < 300
        and not bad
    )
    print(
        "targets on the medians (API ≥ 25% of pgbench, p99 < 250 ms; page flow ≥ 20% of the "
        f"API's bookings/s, p99 < 300 ms per request; no overbooking): "
        f"{'met' if met else 'MISSED'}; PostgreSQL CPU per page booking ≤ 1.1× pgbench's: "
        f"{'met' if median['page_ratio'] <= 1.1 else 'MISSED'} ({median['page_ratio']:.2f}×)"
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
                per_client=PG_CARDS // CLIENTS,
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
        if PIN and (os.cpu_count() or 1) > 1:
            _pin(int(pg_env["PGPORT"]), {0})
            print("PostgreSQL pinned to core 0, gunicorn, wrk and pgbench to the others")
        quiet = psycopg.connect(bench_url, autocommit=True)  # open until the end: see _quiesce
        baselines = [_baseline(quiet, script, pg_env, env, 0)]

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
        rounds: list[dict[str, Any]] = []
        for run in range(ROUNDS):
            _quiesce(quiet)
            api = _phase(
                watcher,
                server_port,
                "API rush",
                lambda run=run: (  # type: ignore[misc]
                    _drive_with_wrk(port, ids["http"], workdir, run)
                    if driver == "wrk"
                    else _drive_with_threads(port, ids["http"], run)
                ),
                "201",
                "channel = 'api' AND group_code <> 'PGBENCH'",
            )
            _quiesce(quiet)
            pages = _phase(
                watcher,
                server_port,
                "page flow",
                lambda run=run: (  # type: ignore[misc]
                    _drive_pages(port, ids, workdir, run) if driver == "wrk" else {}
                ),
                "booked",
                "channel = 'web'",
            )
            baselines.append(_baseline(quiet, script, pg_env, env, run + 1))
            rounds.append({"api": api, "pages": pages})
        if PHASES and driver == "wrk":
            _attribute_phases(port, ids, workdir, watcher, server_port)
        watcher.close()
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        gunicorn = None
        quiet.close()

        with psycopg.connect(bench_url) as conn:
            bad = conn.execute(
                """
                SELECT s.id, s.capacity, s.booked, count(r.id)
                FROM reservations_slot s
                LEFT JOIN reservations_reservation r ON r.slot_id = s.id AND r.status <> 'cancelled'
                GROUP BY s.id HAVING count(r.id) > s.capacity OR count(r.id) <> s.booked
                """
            ).fetchall()
            small_full = conn.execute(
                "SELECT count(*) FROM reservations_slot WHERE id = ANY(%s) AND booked = capacity",
                [ids["small"]],
            ).fetchone()
            unsealed = conn.execute(
                "SELECT count(*) FROM core_auditevent WHERE seq IS NULL"
            ).fetchone()

        for run, measured in enumerate(rounds):  # each flow against the pgbench runs around it
            before, after = baselines[run], baselines[run + 1]
            measured["pg_tps"] = (before["tps"] + after["tps"]) / 2
            measured["pg_cpu"] = (before["cpu"] + after["cpu"]) / max(
                1, before["done"] + after["done"]
            )
            measured["pg_system"] = (before["system"] + after["system"]) / max(
                1, before["done"] + after["done"]
            )
        met = _report(rounds, baselines, bad, small_full, unsealed, workers, driver)
        failures = [
            f"round {n + 1}: {problem}"
            for n, measured in enumerate(rounds)
            for problem in _problems(measured)
        ]
        if bad or failures:
            raise SystemExit(f"FAILED: {len(bad)} bad slots; " + "; ".join(failures))
        finish(met)
    finally:
        if PIN:
            _pin(int(urlparse(bench_url).port or 5432), None)
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
