"""What the page benchmarks share: the server as `madoguchi serve` runs it, and `wrk` against it.

`Server` starts gunicorn on loopback the way `madoguchi serve` (and the booking rush) does —
sync workers, as many as serve starts by default for the database (`env.default_workers`),
`--preload`, the access log written — against the database in `env`. `rate` drives one URL
with `wrk` (keep-alive connections, 2 threads) and returns requests/s, latency percentiles and
the answers that were not 2xx; the static-file baseline is the same call on a file WhiteNoise
serves from the same server, in the same run.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STATIC_FILE = "/static/madoguchi/site.css"
"""The static-file baseline: the stylesheet every page links, served by WhiteNoise."""

RATE_SCRIPT = """
local paths = {PATHS}
counts = {}
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  counts = {}
  math.randomseed(id * 7919 + os.time())
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do
      if status < 200 or status >= 300 then bad = bad + n end
    end
  end
  io.write(string.format("RESULT %d %.3f %.3f %.3f %.3f %.3f %d %d\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout + summary.errors.status))
end
"""


@dataclass(frozen=True)
class Rate:
    """One `wrk` run: requests, seconds, requests/s, latency (ms) and what went wrong."""

    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    max: float
    not_2xx: int
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_dir(extra: str = "") -> Path:
    """A temp dir with `bench_settings.py`: the project's settings, rate limits off (every
    client is 127.0.0.1), plus `extra`."""
    workdir = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
    (workdir / "bench_settings.py").write_text(
        "from madoguchi.settings import *  # noqa: F403\nMADOGUCHI_RATE_LIMITS = {}\n" + extra
    )
    return workdir


def server_env(workdir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "MADOGUCHI_DATA_DIR": str(workdir),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([str(workdir), os.environ.get("PYTHONPATH", "")]),
        "MADOGUCHI_LOG_LEVEL": "ERROR",
        "MADOGUCHI_HTTPS": "false",
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(args)}")
    return result.stdout


class Server:
    """gunicorn as `madoguchi serve` runs it, on a free loopback port."""

    def __init__(self, env: dict[str, str], workdir: Path, workers: int) -> None:
        self.port = free_port()
        self.workers = workers
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "madoguchi.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={workers}",
                "--worker-class=sync",
                "--backlog=2048",
                "--preload",
                f"--access-logfile={workdir / 'access.log'}",
                "--log-level=warning",
            ],
            env=env,
            cwd=REPO,
        )
        deadline = time.monotonic() + 120  # a safety net: a loaded machine warms slowly
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", STATIC_FILE)
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start within 120 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()

    def rate(
        self, paths: str | list[str], seconds: float, connections: int = 50, warm: float = 1.0
    ) -> Rate:
        """`wrk` with `connections` keep-alive connections for `seconds`, each request on
        `paths` (one, or one of several at random), after `warm` seconds of the same load that
        are not counted (every worker's first answer compiles templates and fills caches: a
        one-time cost, not the steady state measured here)."""
        if warm > 0:
            self.rate(paths, warm, connections, warm=0)
        if not shutil.which("wrk"):
            raise SystemExit("wrk is needed (Debian package wrk)")
        chosen = [paths] if isinstance(paths, str) else paths
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(RATE_SCRIPT.replace("PATHS", ", ".join(f'"{p}"' for p in chosen)))
        try:
            out = subprocess.run(
                [
                    "wrk",
                    "-t",
                    str(min(2, connections)),
                    "-c",
                    str(connections),
                    "-d",
                    f"{seconds:g}s",
                    "--timeout",
                    "30s",
                    "-s",
                    script.name,
                    f"http://127.0.0.1:{self.port}{chosen[0]}",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        finally:
            os.unlink(script.name)
        found = re.search(r"^RESULT (.+)$", out, re.MULTILINE)
        if found is None:
            raise SystemExit(f"wrk said: {out}")
        n, secs, p50, p95, p99, top, bad, errors = found.group(1).split()
        return Rate(
            int(n), float(secs), float(p50), float(p95), float(p99), float(top), int(bad),
            int(errors),
        )  # fmt: skip


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"
