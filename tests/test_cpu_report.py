"""`pytest --cpu-report` (tests/cpu_report.py) tells a test that waits from one that computes.

A small suite of two tests runs in a pytest of its own: one waits 0.4 s on an event nobody sets
(no CPU, nothing runnable), the other computes. The report must list the waiting one first with
about 0.4 s idle, and the computing one with its time as CPU (plus any wait for a core), not as
idle — whatever the machine's load, since the wait for a core is read and subtracted."""

from __future__ import annotations

import re
from pathlib import Path

from tests import inner_pytest

SUITE = """
import threading


def test_waits():
    threading.Event().wait(0.4)


def test_computes():
    total = 0
    for n in range(3_000_000):
        total += n * n
    assert total
"""

ROW = re.compile(
    r"^\s*(?P<wall>[\d.]+)\s+(?P<cpu>[\d.]+)\s+(?P<others>-?[\d.]+)\s+(?P<queued>-?[\d.]+)"
    r"\s+(?P<idle>-?[\d.]+)\s+\S+::(?P<test>test_\w+)"
)


def test_the_report_lists_a_waiting_test_as_idle_and_a_computing_one_as_cpu(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_two.py").write_text(SUITE, encoding="utf-8")
    # The report alone, as `plugins` names it: no installed plugin is loaded.
    ran = inner_pytest.run(
        "--cpu-report=5",
        str(tmp_path / "test_two.py"),
        plugins=["tests.cpu_report"],
        suite=tmp_path,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    rows = {m["test"]: m for m in map(ROW.match, ran.stdout.splitlines()) if m is not None}
    assert list(rows) == ["test_waits", "test_computes"], ran.stdout  # most idle first
    waits, computes = rows["test_waits"], rows["test_computes"]
    assert float(waits["idle"]) >= 0.35, ran.stdout
    assert float(waits["cpu"]) < 0.1, ran.stdout
    assert float(computes["cpu"]) > float(computes["idle"]), ran.stdout
    assert "CPU of each process before its tests" in ran.stdout
