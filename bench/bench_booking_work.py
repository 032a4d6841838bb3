"""PostgreSQL's work per booking in instructions — a measure the machine's load does not move.

The booking rush (`bench_booking_rush.py`) sets PostgreSQL's CPU seconds per page booking
against pgbench's per transaction of the same statement; under a 64-client rush on a shared
machine that ratio moved by ±30% between rounds minutes apart (pgbench's own CPU per
transaction by ±20%), too much to decide a 10% target. This benchmark counts instead: a fresh
PostgreSQL runs under valgrind's callgrind, which counts the instructions every server process
executes — the same total twice over, whatever else the cores are doing — and ONE client books
sequentially, each way in turn, on the rush's own data (its seed, its hot slots, its cards):

- **pgbench**: the rush's pgbench transaction (`BEGIN \\;` the app's booking statement, verbatim
  — `reservations.fastpath.STATEMENT` — `\\; COMMIT`, the simple query protocol);
- **API**: `POST /api/v1/reservations`, as the rush's API clients;
- **page flow**: month → day → form → confirmation → booking → reservation page, the rush's
  page-flow requests with the cookies a browser keeps;

each behind gunicorn (one sync worker, as `madoguchi serve` with the per-process audit sealer).
Every way first books WARM_UP times (connections opened, statements prepared, caches filled)
and then BOOKINGS times, measured.

Phases are cut without stopping anything: callgrind dumps a process's counts whenever it enters
`ProcessConfigFile` (`--dump-before`), which every PostgreSQL process does after
`SELECT pg_reload_conf()` — the background processes at once, a client connection before its
next command. So a reload between the warm-up and the measured bookings, and another after them,
splits each connection's instructions exactly at a statement boundary (each dump file's mtime
tells which phase it closes; the postmaster's own dumps mark the reloads). pgbench reloads
itself after its warm-up (`\\if`); the app's phases are cut by this script while idle. Reported
per booking: the instructions of the connection that served the bookings (the request
connection; pgbench's connection), of the audit sealer's connection (separately — pgbench's
events are sealed outside its measured phase, as in the rush), and of PostgreSQL's background
processes; the ratios page/pgbench and API/pgbench; and where the instructions go — calls and
inclusive instructions of the server's parse, analysis, planning, execution, commit and protocol
functions (the exported symbols of Debian's stripped binary).

What is held fixed so that only per-booking work is counted: autovacuum off (each way starts
after `VACUUM (ANALYZE)` and a `CHECKPOINT`, as the rush quiesces), `CONN_MAX_AGE` unlimited (a
connection renewed every minute is per-second work, and under callgrind a minute is a few
dozen bookings), the page and reference caches at an hour (their re-renders and reloads are
per second per process — at a rush's rates a few thousandths of a statement per request,
bench/README.md "Session 12"). The audit sealer runs as in production, in its own thread and
connection, but every 10 s (`SEAL_MS`) instead of 500 ms: one client under callgrind books a
few times a second, so a pass links some twenty bookings' events, as a rush's pass does, not
one (the table gives the passes).

    .venv/bin/python bench/bench_booking_work.py     # BENCH_SMOKE=1: a few bookings

Needs PostgreSQL's server programs, pgbench and valgrind (Debian packages postgresql and
valgrind; `.ci/run` installs valgrind); it starts and removes its own server, on a free port.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO / "src"))
import bench_booking_rush as rush  # noqa: E402  the rush's seed, pgbench values and statement
from smoke import finish, size  # noqa: E402

BIN = Path(sys.executable).parent
WARM_UP = int(os.environ.get("BENCH_WARM_UP", str(size(48, 2))))
BOOKINGS = int(os.environ.get("BENCH_BOOKINGS", str(size(300, 4))))
TARGET = 1.1
SEAL_MS = int(os.environ.get("BENCH_SEAL_MS", str(size(10_000, 1_000))))
"""The app's sealing interval here: one client under callgrind books a few times a second, so
at production's 500 ms each pass would link one booking's events, where a rush's pass links
dozens (64 clients, hundreds of bookings a second, a pass per process every 500 ms). At 10 s a
pass links some twenty to forty bookings — a rush's pass, not a trickle's."""
SETTLE_SECONDS = 1.5
"""After a reload: time for the postmaster to pass SIGHUP on to every process under callgrind."""
PG_USER_OS = os.environ.get("PGUSER_OS", "madoguchi-pg")
SLOTS = rush.LARGE_SLOTS  # the large hot slots: one client never fills them

FUNCTIONS = (
    ("pg_parse_query", "parse"),
    ("parse_analyze_fixedparams", "analyse"),
    ("pg_analyze_and_rewrite_fixedparams", "analyse + rewrite"),
    ("planner", "plan"),
    ("GetCachedPlan", "prepared plan look-up"),
    ("PortalRun", "execute"),
    ("CommitTransactionCommand", "commit"),
    ("StartTransactionCommand", "start transaction"),
    ("pq_getmessage", "read message"),
    ("secure_read", "socket read"),
    ("secure_write", "socket write"),
    ("ProcessConfigFile", "reload (the cut itself)"),
)
"""Exported functions of the server whose calls and inclusive instructions say where a
booking's instructions go (exec_simple_query and its kind are static: not in the symbols)."""

LOCKS = ("pg_try_advisory_xact_lock_int8", "pg_advisory_xact_lock_int8")
"""The chain's lock, taken once per sealing pass: its calls count the sealer's passes."""

GUNICORN_SETTINGS = """
from madoguchi.settings import *  # noqa: F403
from django.db.backends.signals import connection_created
import threading

MADOGUCHI_RATE_LIMITS = {}
DATABASES["default"]["CONN_MAX_AGE"] = None  # noqa: F405
MADOGUCHI_PAGE_CACHE_SECONDS = 3600
MADOGUCHI_REFERENCE_CACHE_SECONDS = 3600


def _name(sender, connection, **kwargs):
    # Which connection is which, for the benchmark (pg_stat_activity.application_name); sent
    # once per connection, in the warm-up.
    role = "sealer" if threading.current_thread().name == "audit-sealer" else "request"
    with connection.cursor() as cursor:
        cursor.execute("SET application_name = %s", ["madoguchi " + role])


connection_created.connect(_name)
"""


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if versions and (versions[-1] / name).exists():
        return str(versions[-1] / name)
    raise SystemExit(f"bench_booking_work: PostgreSQL's {name} not found")


def _as_server_user(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as .ci/start-postgres, run it as PGUSER_OS then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER_OS, "--", *args]
    return args


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        args, env=env, cwd=REPO, capture_output=True, text=True, check=False
    )  # fmt: skip
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(args)}")
    return result.stdout


class Server:
    """A PostgreSQL of this run's own: created and seeded at full speed, then restarted with
    every process under callgrind."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.dumps = root / "callgrind"
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.options = [
            "-p", str(self.port), "-k", str(root), "-c", "listen_addresses=127.0.0.1",
            # as .ci/start-postgres (the rush's server) ...
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=50",
            # ... with autovacuum run by hand between the phases, not at random inside one
            "-c", "autovacuum=off",
        ]  # fmt: skip
        self.url = f"postgres://madoguchi@127.0.0.1:{self.port}/madoguchi"

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.dumps.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, PG_USER_OS)
            shutil.chown(self.dumps, PG_USER_OS)
        _run(
            _as_server_user(
                [_pg_bin("initdb"), "-D", str(self.data), "-U", "madoguchi", "--auth=trust",
                 "-E", "UTF8", "--locale=C.UTF-8"]
            )
        )  # fmt: skip

    def start(self, *, callgrind: bool) -> None:
        command = [_pg_bin("postgres"), "-D", str(self.data), *self.options]
        if callgrind:
            command = [
                "valgrind", "--tool=callgrind", "--quiet",
                f"--callgrind-out-file={self.dumps}/%p",
                "--dump-before=ProcessConfigFile",  # the cut: see the module's docstring
                *command,
            ]  # fmt: skip
        log = (self.root / ("callgrind.log" if callgrind else "server.log")).open("ab")
        self.process = subprocess.Popen(_as_server_user(command), stdout=log, stderr=log)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-d", "postgres"],
                capture_output=True, check=False,
            )  # fmt: skip
            if ready.returncode == 0:
                return
            if self.process.poll() is not None:
                log = (self.root / ("callgrind.log" if callgrind else "server.log")).read_text()
                raise SystemExit(f"PostgreSQL did not start:\n{log[-2000:]}")
            time.sleep(0.5)
        raise SystemExit("PostgreSQL did not start within 180 s")

    def stop(self) -> None:
        if self.process is None:
            return
        pid = self.postmaster()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 2)  # SIGINT: fast shutdown
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            if pid:
                os.kill(pid, 9)
            self.process.wait(timeout=30)
        self.process = None

    def children(self) -> set[int]:
        """The postmaster's live child processes (/proc)."""
        postmaster, found = self.postmaster(), set()
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    found.add(int(proc.name))
            except (OSError, IndexError, ValueError):
                continue
        return found

    def postmaster(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            return None


def _dumps(directory: Path) -> list[dict[str, Any]]:
    """Every callgrind dump: pid, what triggered it, when it was written, and its totals per
    function (self instructions, inclusive instructions of calls made, calls received)."""
    found = []
    for path in directory.iterdir():
        if not re.fullmatch(r"\d+(\.\d+)?", path.name) or path.stat().st_size == 0:
            continue
        found.append({"path": path, "mtime": path.stat().st_mtime, **_parse(path)})
    return found


def _parse(path: Path) -> dict[str, Any]:
    names: dict[str, str] = {}
    total = 0
    trigger = ""
    pid = 0
    own: dict[str, int] = defaultdict(int)
    called: dict[str, int] = defaultdict(int)  # inclusive instructions of calls from fn
    calls: dict[str, int] = defaultdict(int)  # calls received, and their inclusive cost
    received: dict[str, int] = defaultdict(int)
    fn = callee = ""
    pending_call = 0

    def name(text: str) -> str:
        match = re.match(r"\((\d+)\)(?: (.*))?", text)
        if not match:
            return text
        if match.group(2):
            names[match.group(1)] = match.group(2)
        return names.get(match.group(1), match.group(1))

    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if pending_call:
                    called[fn] += cost
                    calls[callee] += pending_call
                    received[callee] += cost
                    pending_call = 0
                else:
                    own[fn] += cost
            elif line.startswith("fn="):
                fn = name(line[3:].strip())
            elif line.startswith("cfn="):
                callee = name(line[4:].strip())
            elif line.startswith("calls="):
                pending_call = int(line[6:].split()[0])
            elif line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
            elif line.startswith("desc: Trigger:"):
                trigger = line.split(":", 2)[2].strip()
            elif line.startswith("pid:"):
                pid = int(line.split()[1])
    return {
        "pid": pid,
        "total": total,
        "reload": "ProcessConfigFile" in trigger,
        "own": dict(own),
        "called": dict(called),
        "calls": dict(calls),
        "received": dict(received),
    }


def _assign(dumps: list[dict[str, Any]], postmaster: int, ready: float) -> list[float]:
    """The window each dump belongs to, by the reloads' times (the postmaster's own dumps after
    `ready`; it also reads its configuration, twice, while starting): a dump at a reload closes
    the window before that reload; a dump at a process's end belongs to the window it ended in.
    Window 0 is everything before the first reload."""
    cuts = sorted(
        d["mtime"] for d in dumps if d["pid"] == postmaster and d["reload"] and d["mtime"] > ready
    )
    for dump in dumps:
        after = sum(1 for cut in cuts if cut <= dump["mtime"] + 1e-9)
        dump["window"] = max(0, after - 1) if dump["reload"] else after
    return cuts


class App:
    """gunicorn with one sync worker, as `madoguchi serve` runs it, on the benchmark's database."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env, self.workdir = env, workdir
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> App:
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "madoguchi.wsgi:application", f"--bind=127.0.0.1:{self.port}",
             "--workers=1", "--worker-class=sync", "--preload", "--log-level=warning",
             f"--access-logfile={self.workdir / 'access.log'}"],
            env=self.env, cwd=REPO,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                conn.request("GET", "/static/nonexistent")
                conn.getresponse().read()
                return self
            except OSError:
                time.sleep(0.3)
        raise SystemExit("gunicorn did not start")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)


class Browser:
    """One keep-alive connection and the two cookies the rush's page flow keeps."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}

    def send(
        self, method: str, url: str, body: str | None = None, json_body: bool = False
    ) -> tuple[int, dict[str, str], str]:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = (
                "application/json" if json_body else "application/x-www-form-urlencoded"
            )
        self.conn.request(method, url, body, headers)
        response = self.conn.getresponse()
        text = response.read().decode(errors="replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                match = re.match(r"(csrftoken|madoguchi_resident)=([^;]*)", value)
                if match:
                    self.cookies[match.group(1)] = match.group(2)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text


def _api_booking(browser: Browser, slot: int, n: int) -> None:
    body = json.dumps(
        {"slot_id": slot, "procedure": "card_pickup", "birth_date": "1980-01-01",
         "notice_number": f"BEN{n:06d}"}
    )  # fmt: skip
    status, _, text = browser.send("POST", "/api/v1/reservations", body, json_body=True)
    if status != 201:
        raise SystemExit(f"API booking answered {status}: {text[:300]}")


def _page_booking(port: int, ids: dict[str, Any], slot: int, n: int) -> None:
    """The rush's page flow for one resident (a new browser: no cookies), step by step."""
    browser = Browser(port)
    notice = f"PAG{n:06d}"
    q = "?notice=" + notice
    site, day = ids["site"], ids["day"]

    def form(**extra: str) -> str:
        return urlencode(
            {"csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""),
             "notice_number": notice, "birth_date_year": "1980", "birth_date_month": "1",
             "birth_date_day": "1", **extra}
        )  # fmt: skip

    steps = [
        ("month", "GET", f"/book/card_pickup/{site}/{q}", None, 200),
        ("day", "GET", f"/book/card_pickup/{site}/{day}/{q}", None, 200),
        ("form", "GET", f"/book/card_pickup/slot/{slot}/{q}", None, 200),
    ]
    for step, method, url, body, expected in steps:
        status, _, text = browser.send(method, url, body)
        if status != expected or (step == "day" and f"/slot/{slot}/" not in text):
            raise SystemExit(f"page flow, {step}: {status}")
    status, _, text = browser.send("POST", f"/book/card_pickup/slot/{slot}/", form())
    token = re.search(r'name="token" value="([^"]+)"', text)
    if status != 200 or not token:
        raise SystemExit(f"page flow, confirmation: {status}")
    status, headers, _ = browser.send(
        "POST", f"/book/card_pickup/slot/{slot}/", form(step="confirm", token=token.group(1))
    )
    code = re.search(r"/reservation/([^/]+)/", headers.get("location", ""))
    if status != 302 or not code or "madoguchi_resident" not in browser.cookies:
        raise SystemExit(f"page flow, booking: {status}")
    status, _, _ = browser.send("GET", f"/reservation/{code.group(1)}/")
    if status != 200:
        raise SystemExit(f"page flow, reservation page: {status}")
    browser.conn.close()


def main() -> None:
    if not shutil.which("valgrind"):
        raise SystemExit("bench_booking_work: valgrind not found (Debian package valgrind)")
    if not shutil.which("pgbench") and not Path(rush.PGBENCH).exists():
        raise SystemExit("bench_booking_work: pgbench not found")
    workdir = Path(tempfile.mkdtemp(prefix="madoguchi-work-"))  # the app's data (mode 0700)
    pg_root = Path(tempfile.mkdtemp(prefix="madoguchi-work-pg-"))
    os.chmod(pg_root, 0o755)  # the server's user reaches its directory inside
    server = Server(pg_root / "server")
    try:
        server.init()
        server.start(callgrind=False)
        _run([_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "madoguchi",
              "madoguchi"])  # fmt: skip
        (workdir / "bench_settings.py").write_text(GUNICORN_SETTINGS)
        env = {
            # The server is this run's own: an application role named by the caller's
            # environment (CI's server has one, `.ci/start-postgres`) does not exist here.
            **{k: v for k, v in os.environ.items() if k != "MADOGUCHI_DB_APP_ROLE"},
            "DATABASE_URL": server.url,
            "MADOGUCHI_DATA_DIR": str(workdir),
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PYTHONPATH": os.pathsep.join([str(workdir), os.environ.get("PYTHONPATH", "")]),
            "MADOGUCHI_LOG_LEVEL": "ERROR",
            "MADOGUCHI_AUDIT_SEAL_MS": str(SEAL_MS),
        }
        started = time.monotonic()
        _run([str(BIN / "madoguchi"), "migrate", "--no-input", "-v", "0"], env)
        cards = WARM_UP + BOOKINGS + 2
        seed = f"import django\ndjango.setup()\n{rush.SEED}"
        args = [rush.LARGE_SLOTS, rush.SMALL_SLOTS, rush.SMALL_SEATS, cards, cards + 2, cards]
        out = _run([sys.executable, "-c", seed, *map(str, args)], env)
        ids = json.loads(out.strip().splitlines()[-1])
        server.stop()
        print(f"database migrated and seeded in {time.monotonic() - started:.0f} s")
        results = _measure(server, env, workdir, ids)
        _report(results)
        finish(results["met"])
    finally:
        server.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
            shutil.rmtree(pg_root, ignore_errors=True)


def _measure(server: Server, env: dict[str, str], workdir: Path, ids: dict[str, Any]) -> Any:
    import psycopg

    server.start(callgrind=True)
    ready = time.time()
    control = psycopg.connect(server.url, autocommit=True)
    control_pid = control.info.backend_pid
    roles: dict[int, str] = {control_pid: "this script"}
    for pid, kind in control.execute(
        "SELECT pid, backend_type FROM pg_stat_activity WHERE backend_type <> 'client backend'"
    ).fetchall():
        roles[int(pid)] = str(kind)
    persistent = set(roles)
    windows: list[str] = []  # the name of the window each reload opens, in order

    def cut(opens: str) -> None:
        control.execute("SELECT pg_reload_conf()")
        windows.append(opens)
        time.sleep(SETTLE_SECONDS)

    def quiesce(opens: str) -> None:
        """As the rush before each phase: the previous phase's dead rows vacuumed, statistics
        up to date, dirty pages written — here only the tables written since (a whole-database
        VACUUM under callgrind takes half a minute of catalogs)."""
        cut("quiesce")
        written = control.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE n_mod_since_analyze > 0 "
            "OR n_dead_tup > 0"
        ).fetchall()
        for (table,) in written:
            control.execute(f'VACUUM (ANALYZE) "{table}"')
        control.execute("CHECKPOINT")
        cut(opens)

    def gone() -> None:
        """Wait until every connection but this script's has ended and written its last dump
        (a backend ends after its client; under callgrind, seconds after)."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            children = server.children() - persistent
            if not children:
                return
            time.sleep(0.2)
        raise SystemExit(f"connections {children} did not end")

    def settle() -> None:  # the app's audit events linked by its sealer
        deadline = time.monotonic() + 300
        while control.execute("SELECT 1 FROM core_auditevent WHERE seq IS NULL LIMIT 1").fetchone():
            if time.monotonic() > deadline:
                raise SystemExit("the audit sealer left events unsealed for 5 minutes")
            time.sleep(0.3)

    def name_connections() -> None:
        for pid, name in control.execute(
            "SELECT pid, application_name FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall():
            roles[int(pid)] = str(name) or "pgbench"

    bookings: dict[str, int] = {}
    # The measured bookings take the times the warm-up took (48 in a full run: all the hot
    # ones): a time's first form page is rendered afresh, and that is per time and per second
    # per process in a rush, not per booking.
    slots = ids["http"][: max(1, min(SLOTS, WARM_UP))]

    # pgbench: its own warm-up, then a reload from its own connection (the cut), then the
    # measured transactions, then its end.
    values = {
        **rush.PGBENCH_VALUES,
        "municipality": str(ids["municipality"]),
        "procedure": str(ids["procedure"]),
    }
    script = workdir / "booking.sql"
    script.write_text(
        f"\\set slot random({min(slots)}, {max(slots)})\n"
        "\\set n :n + 1\n"
        "\\set card 1 + :n\n"
        f"BEGIN \\;\n{ids['statement'] % values} \\;\nCOMMIT;\n"
        # the cuts: after the warm-up, and after the last booking (its connection then dumps
        # when pgbench says goodbye, before the backend's exit)
        f"\\if :n = {WARM_UP} or :n = {WARM_UP + BOOKINGS}\n"
        "SELECT pg_reload_conf();\n"
        f"\\sleep {int(SETTLE_SECONDS * 1000)} ms\n"
        "\\endif\n"
    )
    quiesce("pgbench warm-up")
    before = control.execute("SELECT count(*) FROM reservations_reservation").fetchone()[0]
    windows += ["pgbench", "after pgbench"]  # opened by pgbench's own reloads
    pg_env = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": str(server.port),
              "PGUSER": "madoguchi", "PGDATABASE": "madoguchi"}  # fmt: skip
    pgbench = shutil.which("pgbench") or rush.PGBENCH
    _run([pgbench, "-n", "-f", str(script), "-c", "1", "-t", str(WARM_UP + BOOKINGS),
          "-D", "n=0"], pg_env)  # fmt: skip
    stored = control.execute("SELECT count(*) FROM reservations_reservation").fetchone()[0]
    if stored - before != WARM_UP + BOOKINGS:
        raise SystemExit(f"pgbench stored {stored - before} bookings")
    bookings["pgbench"] = BOOKINGS
    gone()
    cut("pgbench's sealing")  # outside any measured window, as in the rush
    _run([str(BIN / "madoguchi"), "audit-seal"], env)

    for way in ("API", "page flow"):
        quiesce(f"{way} warm-up")
        with App(env, workdir) as app:
            browser = Browser(app.port)

            def book(n: int, way: str = way, port: int = app.port, api: Browser = browser) -> None:
                # the API's clients and the page flow's residents each have their own cards
                slot = slots[n % len(slots)]
                if way == "API":
                    _api_booking(api, slot, n)
                else:
                    _page_booking(port, ids, slot, n)

            for n in range(WARM_UP):
                book(n)
            settle()
            name_connections()
            cut(way)
            started = time.monotonic()
            for n in range(WARM_UP, WARM_UP + BOOKINGS):
                book(n)
            settle()
            elapsed = time.monotonic() - started
            name_connections()
            bookings[way] = BOOKINGS
            print(f"{way}: {BOOKINGS} bookings in {elapsed:.0f} s under callgrind", flush=True)
            cut("after " + way)
        gone()
    unsealed = control.execute("SELECT count(*) FROM core_auditevent WHERE seq IS NULL").fetchone()
    bad = control.execute(
        """
        SELECT s.id FROM reservations_slot s
        LEFT JOIN reservations_reservation r ON r.slot_id = s.id AND r.status <> 'cancelled'
        GROUP BY s.id HAVING count(r.id) > s.capacity OR count(r.id) <> s.booked
        """
    ).fetchall()
    control.close()
    postmaster = server.postmaster()
    server.stop()
    dumps = _dumps(server.dumps)
    cuts = _assign(dumps, postmaster or 0, ready)
    names = ["before", *windows]
    if len(cuts) != len(windows):
        raise SystemExit(
            f"{len(cuts)} reloads seen by the postmaster, {len(windows)} made: cannot cut"
        )
    for dump in dumps:  # pgbench's connection: the one client of its windows
        if dump["pid"] not in roles and names[dump["window"]] in ("pgbench warm-up", "pgbench"):
            roles[dump["pid"]] = "pgbench"
    for pid in {d["pid"] for d in dumps}:
        roles.setdefault(pid, "other connections")
    roles[postmaster or 0] = "postmaster"
    return {
        "dumps": dumps,
        "names": names,
        "roles": roles,
        "bookings": bookings,
        "unsealed": unsealed[0] if unsealed else None,
        "bad": bad,
        "met": False,
    }


def _role_group(role: str) -> str:
    if role in ("madoguchi request", "pgbench"):
        return "client"
    if role == "madoguchi sealer":
        return "sealer"
    if role == "this script":
        return "script"
    return "background"


def _report(results: dict[str, Any]) -> None:
    dumps, names, roles = results["dumps"], results["names"], results["roles"]
    if os.environ.get("BENCH_VERBOSE"):
        for dump in sorted(dumps, key=lambda d: d["mtime"]):
            print(
                f"{time.strftime('%H:%M:%S', time.gmtime(dump['mtime']))} "
                f"{names[dump['window']]:>20} {dump['pid']:>7} "
                f"{roles.get(dump['pid'], '?'):>20} {'reload' if dump['reload'] else 'exit':>6} "
                f"{dump['total']:>12}"
            )
    per: dict[str, dict[str, Any]] = {}
    for way, n in results["bookings"].items():
        index = names.index(way)
        group: dict[str, int] = defaultdict(int)
        functions: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        client_dumps = sealer_passes = 0
        for dump in dumps:
            if dump["window"] != index:
                continue
            kind = _role_group(roles.get(dump["pid"], "other connections"))
            if kind == "script":
                continue
            group[kind] += dump["total"]
            if kind == "sealer":  # a pass begins with the chain's lock (core.audit._seal)
                sealer_passes += sum(dump["calls"].get(f, 0) for f in LOCKS)
            if kind == "client":
                client_dumps += 1
                for function, _ in FUNCTIONS:
                    functions[function][0] += dump["calls"].get(function, 0)
                    functions[function][1] += dump["received"].get(function, 0)
        per[way] = {
            "n": n,
            "client": group["client"] / n,
            "sealer": group["sealer"] / n,
            "background": group["background"] / n,
            "functions": {k: (c / n, i / n) for k, (c, i) in functions.items()},
            "client_dumps": client_dumps,
            "passes": sealer_passes,
        }
    base = per["pgbench"]["client"]
    print()
    print(
        f"PostgreSQL's instructions per booking (callgrind), one client, {WARM_UP} bookings of "
        f"warm-up then {BOOKINGS} measured per way:"
    )
    print()
    print(
        "| way | client connection | ÷ pgbench's | audit sealer's connection (passes: bookings "
        "per pass) | client + sealer ÷ pgbench's | background processes |"
    )
    print("|---|---|---|---|---|---|")
    for way, row in per.items():
        passes = f"{row['n'] / row['passes']:.0f}" if row["passes"] else "–"
        print(
            f"| {way} | {row['client'] / 1e6:.3f} M | **{row['client'] / base:.3f}×** | "
            f"{row['sealer'] / 1e6:.3f} M ({row['passes']}: {passes}) | "
            f"{(row['client'] + row['sealer']) / base:.3f}× | {row['background'] / 1e6:.3f} M |"
        )
    print()
    print("Where the client connection's instructions go, per booking (calls; inclusive M):")
    print()
    print("| function | " + " | ".join(per) + " |")
    print("|---|" + "---|" * len(per))
    for function, label in FUNCTIONS:
        cells = []
        for row in per.values():
            calls, instructions = row["functions"].get(function, (0.0, 0.0))
            cells.append(f"{calls:.2f}; {instructions / 1e6:.3f} M")
        print(f"| {label} (`{function}`) | " + " | ".join(cells) + " |")
    print()
    odd = [way for way, row in per.items() if row["client_dumps"] != 1]
    if odd:
        print(f"(warning: the measured window of {odd} holds not exactly one client dump)")
    print(
        f"overbooked or miscounted slots: {len(results['bad'])}; audit events left unsealed: "
        f"{results['unsealed']}"
    )
    page = per["page flow"]["client"] / base
    api = per["API"]["client"] / base
    results["met"] = page <= TARGET and not results["bad"]
    print(
        f"PostgreSQL instructions per page booking ≤ {TARGET}× pgbench's per transaction "
        f"(client connection): {'met' if results['met'] else 'MISSED'} ({page:.3f}×; "
        f"the API {api:.3f}×)"
    )


if __name__ == "__main__":
    main()
