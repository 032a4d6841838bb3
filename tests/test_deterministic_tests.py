"""No test's outcome may hang on the machine's load, the threads' timing or the wall clock: CI
runs two workers on a machine other sessions load too, and one flaky test fails a whole run.
Every test module is walked (its syntax tree, not its text): a fixed sleep, a read of the wall
clock or of elapsed time, Playwright's fixed wait and an unseeded random draw are refused outside
the allow-list below, where each use says why its outcome does not depend on timing.

What to use instead: an event, barrier or condition for "after the other thread got there" (with
a long bound only as a safety net that fails saying so); the frozen clock (`frozen`,
`frozen_at`, tests/frozen_clock.py) for dates and times; Playwright's waits for a state, not
for a time; a seeded generator."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

TESTS = Path(__file__).resolve().parent

ALLOWED = {
    (
        "core/test_audit.py",
        "test_after_commit_events_are_sealed_by_the_background_timer",
    ): "the background sealer's own timer is what is tested, so the test polls the event; the "
    "120 s deadline is a safety net that fails naming the sealer",
    (
        "cpu_report.py",
        "pytest_runtest_setup",
    ): "the opt-in report (`--cpu-report`) reads each test's wall time to print it beside its CPU "
    "time; no outcome is decided by it (the frozen clock never moves the performance counter)",
    (
        "cpu_report.py",
        "pytest_runtest_makereport",
    ): "the same report's reading at the end of each test",
    (
        "core/test_backup.py",
        "_wait_for",
    ): "the drill backs up while booking threads run on; it polls for row counts, and the 60 s "
    "deadline is a safety net that fails naming what it waited for",
}
"""(module under tests/, enclosing function) → why that use of time cannot decide the outcome."""

SLEEPS = {("time", "sleep")}
CLOCK_READS = {("time", "time"), ("time", "monotonic"), ("time", "perf_counter")}
CLOCK_READS |= {("time", "time_ns"), ("time", "monotonic_ns"), ("time", "perf_counter_ns")}
WALL_DATES = {("date", "today"), ("datetime", "now"), ("datetime", "today")}
WALL_DATES |= {("datetime", "utcnow")}
GLOBAL_RANDOM = {
    ("random", name)
    for name in ("random", "randint", "randrange", "choice", "choices", "shuffle", "sample")
}
GLOBAL_RANDOM |= {("random", "uniform"), ("random", "gauss")}
UNSEEDED = {"default_rng", "Random", "RandomState"}


def _dotted(node: ast.expr) -> list[str]:
    """`dt.datetime.now` → ["dt", "datetime", "now"]; anything not a plain name chain → []."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return []


def _why_timing(call: ast.Call, imported_from_time: set[str]) -> str | None:
    name = _dotted(call.func)
    if not name:
        return None
    last_two = tuple(name[-2:])
    if last_two in SLEEPS or (len(name) == 1 and name[0] in imported_from_time & {"sleep"}):
        return "a fixed sleep"
    if last_two in CLOCK_READS or (len(name) == 1 and name[0] in imported_from_time - {"sleep"}):
        return "a read of the wall clock or of elapsed time"
    if last_two in WALL_DATES and name[0] not in {"clock", "timezone"}:
        return "the machine's date or time (use the frozen clock)"
    if name[-1] == "wait_for_timeout":
        return "Playwright's fixed wait (wait for a state instead)"
    if last_two in GLOBAL_RANDOM and name[0] == "random":
        return "the process-wide random generator (use a seeded one)"
    if name[-1] in UNSEEDED and not call.args and not call.keywords:
        return "a random generator without a seed"
    return None


def timing_uses(source: str) -> list[tuple[str, int, str]]:
    """(enclosing function, line, why) for every use in `source` the rule refuses."""
    tree = ast.parse(source)
    imported_from_time = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "time"
        for alias in node.names
    }
    found: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name if function == "<module>" else function
            if isinstance(child, ast.Call):
                why = _why_timing(child, imported_from_time)
                if why is not None:
                    found.append((function, child.lineno, why))
            visit(child, inner)

    visit(tree, "<module>")
    return found


def _test_sources() -> list[Path]:
    return sorted(path for path in TESTS.rglob("*.py") if path.name != Path(__file__).name)


@functools.cache
def _every_use() -> tuple[tuple[str, str, int, str], ...]:
    """(module under tests/, enclosing function, line, why) for every test module: walked once
    per process for both tests below."""
    return tuple(
        (str(path.relative_to(TESTS)), function, line, why)
        for path in _test_sources()
        for function, line, why in timing_uses(path.read_text(encoding="utf-8"))
    )


def test_no_test_waits_for_time_reads_the_clock_or_draws_unseeded() -> None:
    refused = [
        f"tests/{module}:{line} in {function}: {why}"
        for module, function, line, why in _every_use()
        if (module, function) not in ALLOWED
    ]
    assert refused == []


def test_every_allowed_use_is_still_there() -> None:
    """An entry whose use is gone is dropped from the list, so the list stays the truth."""
    used = {(module, function) for module, function, _line, _why in _every_use()}
    assert set(ALLOWED) - used == set()


def test_the_walk_finds_every_kind_it_refuses() -> None:
    """The check itself: each refused form is found, where it is; the allowed forms are not."""
    source = """
import time
import random
import datetime as dt
from time import sleep, monotonic
import numpy as np
from madoguchi.core import clock

def waits(page):
    time.sleep(0.05)
    sleep(1)
    page.wait_for_timeout(500)

def measures():
    started = time.monotonic()
    return monotonic() - started < 5 and time.perf_counter()

def dates():
    return dt.date.today(), dt.datetime.now(), dt.datetime.now(tz=dt.UTC), dt.datetime.utcnow()

def draws():
    random.shuffle([1, 2])
    return np.random.default_rng(), random.Random()

def fine(page):
    rng = np.random.default_rng(7)
    rng.shuffle([1, 2])
    page.wait_for_load_state()
    return clock.now(), clock.today(), random.Random(3), dt.datetime(2026, 6, 1)
"""
    whys = [(function, why.split(" ")[1]) for function, _line, why in timing_uses(source)]
    assert whys == [
        ("waits", "fixed"),
        ("waits", "fixed"),
        ("waits", "fixed"),
        ("measures", "read"),
        ("measures", "read"),
        ("measures", "read"),
        ("dates", "machine's"),
        ("dates", "machine's"),
        ("dates", "machine's"),
        ("dates", "machine's"),
        ("draws", "process-wide"),
        ("draws", "random"),
        ("draws", "random"),
    ]
