"""Booking rush: 64 concurrent clients POST /api/v1/reservations over HTTP against PostgreSQL.

Starts gunicorn (4 workers × 4 threads, gthread) on loopback against a fresh database
(`<MADOGUCHI_TEST_DATABASE_URL's db>_bench`), seeds one site, hot card_pickup slots and cards
with notices, then lets 64 client threads book as fast as they can (bounded by a request count
and a time limit). Baseline: pgbench drives the same booking transaction (conditional UPDATE +
INSERT) directly, `-c 64 -j 2 -T 10`. Prints bookings/s, p50/p99 latency, the ratio, and checks
that no slot holds more reservations than its capacity (and that `booked` equals the count).

    MADOGUCHI_TEST_DATABASE_URL=postgres://madoguchi@127.0.0.1:54329/madoguchi \
        .venv/bin/python bench/bench_booking_rush.py

Rate limits are switched off for the run (all clients share 127.0.0.1).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PGBENCH = os.environ.get("PGBENCH", "/usr/lib/postgresql/15/bin/pgbench")
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "64"))
REQUESTS_PER_CLIENT = int(os.environ.get("BENCH_REQUESTS_PER_CLIENT", "40"))
TIME_LIMIT_SECONDS = float(os.environ.get("BENCH_TIME_LIMIT", "60"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
HOT_SLOTS = 50
SEATS_PER_SLOT = 40  # 2,000 seats for 2,560 requests: the last ones meet full slots (409)

SEED = r"""
import datetime as dt
from madoguchi.core import clock
from madoguchi.issuance.models import CardRecord
from madoguchi.offices.models import Municipality, Procedure, Site
from madoguchi.reservations.models import Slot

city = Municipality.objects.create(code="999997", name="ベンチ市")
pickup = Procedure.objects.create(code="card_pickup", name="カードの受け取り", duration_minutes=20)
site = Site.objects.create(municipality=city, name="ベンチ本庁舎", kind="main_office", address="-")
site.procedures.set([pickup])
day = clock.today() + dt.timedelta(days=10)
def slots(first, count, capacity):
    return [
        Slot(site=site, procedure=pickup, capacity=capacity,
             starts_at=clock.at(day, dt.time(0, 0)) + dt.timedelta(minutes=10 * (first + i)),
             ends_at=clock.at(day, dt.time(0, 0)) + dt.timedelta(minutes=10 * (first + i) + 20))
        for i in range(count)
    ]
http_slots = Slot.objects.bulk_create(slots(0, HOT, SEATS))
pg_slots = Slot.objects.bulk_create(slots(HOT, HOT, 10_000_000))
CardRecord.objects.bulk_create(
    CardRecord(
        municipality=city, application_id=f"{n:023d}", family_name="試験",
        family_name_kana="シケン",
        birth_date=dt.date(1980, 1, 1), postal_code="123-4567", address="-",
        application_kind="renewal", delivered_on=clock.today(), status="notice_issued",
        notice_number=f"BEN{n:06d}", notice_issued_at=clock.now(),
    )
    for n in range(CARDS)
)
print(json.dumps({"http": [s.pk for s in http_slots], "pg": [s.pk for s in pg_slots],
                  "procedure": pickup.pk}))
"""

PGBENCH_SCRIPT = """\\set slot random({first}, {last})
WITH claimed AS (
  UPDATE reservations_slot SET booked = booked + 1
  WHERE id = :slot AND booked < capacity RETURNING id
)
INSERT INTO reservations_reservation
  (code, group_code, slot_id, procedure_id, status, channel, person_key, birth_date,
   family_name_kana, given_name_kana, email, phone, notice_number, is_proxy,
   created_at, updated_at)
SELECT substr(md5(random()::text), 1, 12), 'PGBENCH', id, {procedure}, 'booked', 'api',
       'pgbench:' || md5(random()::text || :client_id), '1980-01-01', '', '', '', '', '', false,
       now(), now()
FROM claimed;
"""

AUDITED_SCRIPT = """\\set slot random({first}, {last})
BEGIN;
UPDATE reservations_slot SET booked = booked + 1 WHERE id = :slot AND booked < capacity;
INSERT INTO reservations_reservation
  (code, group_code, slot_id, procedure_id, status, channel, person_key, birth_date,
   family_name_kana, given_name_kana, email, phone, notice_number, is_proxy,
   created_at, updated_at)
VALUES (substr(md5(random()::text), 1, 12), 'PGBENCH', :slot, {procedure}, 'booked', 'api',
        'pgbench:' || md5(random()::text || :client_id), '1980-01-01', '', '', '', '', '', false,
        now(), now());
SELECT pg_advisory_xact_lock(7404030201);
SELECT hash FROM core_auditevent ORDER BY id DESC LIMIT 1;
INSERT INTO core_auditevent (at, actor, action, subject_type, subject_id, previous_hash, hash)
VALUES (now(), 'bench', 'card.book', 'bench', '1', '', md5(random()::text) || md5(random()::text));
SELECT hash FROM core_auditevent ORDER BY id DESC LIMIT 1;
INSERT INTO core_auditevent (at, actor, action, subject_type, subject_id, previous_hash, hash)
VALUES (now(), 'bench', 'res.book', 'bench', '1', '', md5(random()::text) || md5(random()::text));
COMMIT;
"""
"""Diagnostic: the app's statement sequence for a card pick-up (claim, insert, two chained audit
events under the chain's advisory lock), minus Python — the database-side ceiling."""


def _pgbench(script: Path, env: dict[str, str]) -> tuple[float, str]:
    out = _run([PGBENCH, "-n", "-f", str(script), "-c", "64", "-j", "2", "-T", "10"], env)
    tps = re.search(r"tps = ([0-9.]+)", out)
    latency = re.search(r"latency average = ([0-9.]+) ms", out)
    return (float(tps.group(1)) if tps else float("nan")), (latency.group(1) if latency else "?")


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


def _client(
    port: int, slots: list[int], first_card: int, stop_at: float, out: list[tuple[float, int]]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    rng = random.Random(first_card)
    for n in range(REQUESTS_PER_CLIENT):
        if time.monotonic() > stop_at:
            break
        body = json.dumps(
            {
                "slot_id": rng.choice(slots),
                "procedure": "card_pickup",
                "birth_date": "1980-01-01",
                "notice_number": f"BEN{first_card + n:06d}",
            }
        )
        started = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/reservations", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        out.append((time.perf_counter() - started, status))
    conn.close()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    admin_url, bench_url, bench_name = _database_urls()
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
        cards = CLIENTS * REQUESTS_PER_CLIENT
        header = f"HOT, SEATS, CARDS = {HOT_SLOTS}, {SEATS_PER_SLOT}, {cards}"
        seed = f"import django, json\ndjango.setup()\n{header}\n{SEED}"
        ids = json.loads(_run([sys.executable, "-c", seed], env).strip().splitlines()[-1])

        port = _free_port()
        gunicorn = subprocess.Popen(  # our own venv's gunicorn, loopback only
            [
                str(BIN / "gunicorn"),
                "madoguchi.wsgi:application",
                f"--bind=127.0.0.1:{port}",
                f"--workers={WORKERS}",
                "--worker-class=gthread",
                f"--threads={THREADS}",
                "--log-level=warning",
            ],
            env=env,
            cwd=REPO,
        )
        _wait_for(port)

        results: list[tuple[float, int]] = []
        stop_at = time.monotonic() + TIME_LIMIT_SECONDS
        clients = [
            threading.Thread(
                target=_client, args=(port, ids["http"], i * REQUESTS_PER_CLIENT, stop_at, results)
            )
            for i in range(CLIENTS)
        ]
        started = time.perf_counter()
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        elapsed = time.perf_counter() - started
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        gunicorn = None

        booked = [lat for lat, status in results if status == 201]
        full = sum(1 for _, status in results if status == 409)
        other = sum(1 for _, status in results if status not in (201, 409))
        latencies = [lat for lat, _ in results]

        script = workdir / "booking.sql"
        script.write_text(
            PGBENCH_SCRIPT.format(
                first=min(ids["pg"]), last=max(ids["pg"]), procedure=ids["procedure"]
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
        pg_tps, pg_avg = _pgbench(script, pg_env)
        audited = workdir / "audited.sql"
        audited.write_text(
            AUDITED_SCRIPT.format(
                first=min(ids["pg"]), last=max(ids["pg"]), procedure=ids["procedure"]
            )
        )
        audited_tps, audited_avg = _pgbench(audited, pg_env)

        import psycopg

        with psycopg.connect(bench_url) as conn:
            bad = conn.execute(
                """
                SELECT s.id, s.capacity, s.booked, count(r.id)
                FROM reservations_slot s
                LEFT JOIN reservations_reservation r ON r.slot_id = s.id AND r.status <> 'cancelled'
                GROUP BY s.id HAVING count(r.id) > s.capacity OR count(r.id) <> s.booked
                """
            ).fetchall()
            total_http = conn.execute(
                "SELECT count(*) FROM reservations_reservation WHERE group_code <> 'PGBENCH'"
            ).fetchone()

        http_rate = len(booked) / elapsed
        request_rate = len(results) / elapsed
        print()
        print(
            f"Booking rush: {CLIENTS} clients × ≤{REQUESTS_PER_CLIENT} requests, gunicorn "
            f"{WORKERS} workers × {THREADS} threads, PostgreSQL, {os.cpu_count()} cores"
        )
        ms = 1000
        stored = total_http[0] if total_http else "?"
        rows = [
            (
                "requests (201 / 409 slot_full / other)",
                f"{len(results)} ({len(booked)} / {full} / {other})",
            ),
            ("wall time", f"{elapsed:.2f} s"),
            ("HTTP bookings/s (201 only)", f"{http_rate:.0f}"),
            ("HTTP requests/s (201 + 409)", f"{request_rate:.0f}"),
            (
                "latency p50 / p99 (all)",
                f"{statistics.median(latencies) * ms:.0f} ms / "
                f"{_percentile(latencies, 0.99) * ms:.0f} ms",
            ),
            ("pgbench same transaction, -c 64 -j 2 -T 10", f"{pg_tps:.0f} tps (avg {pg_avg} ms)"),
            ("ratio HTTP bookings/s ÷ pgbench tps", f"{http_rate / pg_tps:.1%}"),
            (
                "diagnostic: pgbench, app's statements incl. 2 audit events under the chain lock",
                f"{audited_tps:.0f} tps (avg {audited_avg} ms)",
            ),
            ("overbooked or miscounted slots", f"{len(bad)} (HTTP reservations: {stored})"),
        ]
        print("| measure | value |")
        print("|---|---|")
        for name, value in rows:
            print(f"| {name} | {value} |")
        if bad or other:
            raise SystemExit(f"FAILED: {len(bad)} bad slots, {other} unexpected responses")
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
