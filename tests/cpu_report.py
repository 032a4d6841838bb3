"""`pytest --cpu-report[=N]`: where the suite waits instead of computing.

Loaded as a plugin by tests/conftest.py; does nothing unless the option is given. For every test
(set-up, call and tear-down together) it records the wall time, the CPU time of the test
process — every thread of it, so the live server's requests count — and the CPU time of the
processes it started: children it reaped (a demo command, a migration in a subprocess) and live
descendants read from /proc (Playwright's driver, Chromium and its renderers). What is left of
the wall time is waiting: for a timer, a lock, or a core the machine's other work holds.

It also reads how long the test process's live threads were runnable but waited for a core
(/proc/self/task/*/schedstat): on a machine other work loads, that wait is most of a test's wall
time and says nothing about the test. What is left — wall time minus CPU minus that wait — is
the time the test waited for a timer, a lock, a socket, or for another process: Chromium and a
command's subprocess wait for a core too, and that wait is not subtracted (summed over their
many threads it would count parallel waits many times), nor is the wait of a thread that ended
(the live server's request threads). So "idle" is exact for a test in one thread and an upper
bound for the others; it is 0 where nothing waits but for cores.

At the end it prints the N tests (20 without a number) with the largest idle time, and for each
process (each xdist worker, or the one process) the CPU spent before its first test: start-up,
imports and collection, then the first test's set-up (template database, Chromium, live server).

The numbers are read, never asserted: nothing decides a test's outcome by them.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass, field
from typing import Any, cast

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("madoguchi").addoption(
        "--cpu-report",
        nargs="?",
        const=20,
        default=None,
        type=int,
        metavar="N",
        help="print the N tests (default 20) with the largest wall time minus CPU time and "
        "minus the time spent waiting for a core, "
        "and each process's CPU before its first test",
    )


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _run_delay(pid: int) -> float:
    """Seconds the live threads of `pid` spent runnable but waiting for a core (schedstat)."""
    total = 0
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/schedstat", "rb") as schedstat:
                total += int(schedstat.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def _descendants_cpu() -> float:
    """The CPU of this process's live descendants (Playwright's driver, Chromium and its
    renderers), each with what its own reaped children used — read from /proc (Linux); 0
    elsewhere."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0.0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                text = stat.read().decode("ascii", "replace")
        except OSError:  # gone meanwhile
            continue
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (name) "
        pid = int(entry)
        parents[pid] = int(fields[1])
        used[pid] = sum(int(value) for value in fields[11:15]) / _TICK
    me = os.getpid()
    total = 0.0
    for pid in used:
        ancestor = parents.get(pid)
        while ancestor is not None and ancestor not in (me, 0, 1):
            ancestor = parents.get(ancestor)
        if ancestor == me:
            total += used[pid]
    return total


def _cpu() -> tuple[float, float, float]:
    """(this process's CPU — every thread, the live server's too; the CPU of every process it
    started: reaped children and live descendants; the time this process's live threads were
    runnable but waited for a core), in seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    others = children.ru_utime + children.ru_stime + _descendants_cpu()
    return own.ru_utime + own.ru_stime, others, _run_delay(os.getpid())


@dataclass
class _Process:
    """What one process spent before its first test, and the readings of the test running now."""

    before_collection: float = 0.0
    after_collection: float = 0.0
    after_first_setup: float | None = None
    started: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    last: str | None = None
    """The process's last test: its tear-down also ends the session (Chromium, the live server,
    the test database), so its row is marked."""

    def summary(self) -> dict[str, float | None]:
        return {
            "before_collection": self.before_collection,
            "after_collection": self.after_collection,
            "after_first_setup": self.after_first_setup,
        }


@dataclass
class _Report:
    top: int
    processes: dict[str, dict[str, float | None]] = field(default_factory=dict)


_PROCESS_KEY = pytest.StashKey[_Process]()
_REPORT_KEY = pytest.StashKey[_Report]()
_PROPERTY = "cpu-report"


def pytest_configure(config: pytest.Config) -> None:
    top = config.getoption("cpu_report", None)
    if top is None:
        return
    config.stash[_PROCESS_KEY] = _Process(before_collection=sum(_cpu()[:2]))
    if not hasattr(config, "workerinput"):  # the controller (or the one process) prints
        config.stash[_REPORT_KEY] = _Report(top=top)


def pytest_collection_finish(session: pytest.Session) -> None:
    process = session.config.stash.get(_PROCESS_KEY, None)
    if process is not None:
        process.after_collection = sum(_cpu()[:2])


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    process = item.config.stash.get(_PROCESS_KEY, None)
    if process is not None:
        process.started[item.nodeid] = (time.perf_counter(), *_cpu())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    process = item.config.stash.get(_PROCESS_KEY, None)
    if process is not None and nextitem is None:
        process.last = item.nodeid


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    process = item.config.stash.get(_PROCESS_KEY, None)
    if process is None or item.nodeid not in process.started:
        return report
    if call.when == "setup" and process.after_first_setup is None:
        process.after_first_setup = sum(_cpu()[:2])
    if call.when == "teardown":
        wall0, own0, children0, queued0 = process.started.pop(item.nodeid)
        own, children, queued = _cpu()
        name = item.nodeid + (" (+ the session's tear-down)" if item.nodeid == process.last else "")
        report.user_properties.append(
            (
                _PROPERTY,
                (
                    name,
                    time.perf_counter() - wall0,
                    own - own0,
                    children - children0,
                    queued - queued0,
                ),
            )
        )
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":
        return
    for key, value in report.user_properties:
        if key == _PROPERTY:
            _reports.append(cast(tuple[str, float, float, float, float], tuple(value)))


_reports: list[tuple[str, float, float, float, float]] = []
"""Filled by `pytest_runtest_logreport` in the process that prints (the controller receives
every worker's reports with their user properties)."""


def pytest_sessionfinish(session: pytest.Session) -> None:
    process = session.config.stash.get(_PROCESS_KEY, None)
    workeroutput = getattr(session.config, "workeroutput", None)
    if process is not None and workeroutput is not None:
        workeroutput[_PROPERTY] = process.summary()


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: absent with `-p no:xdist`
def pytest_testnodedown(node: Any, error: Any) -> None:
    report = node.config.stash.get(_REPORT_KEY, None)
    if report is not None and _PROPERTY in getattr(node, "workeroutput", {}):
        report.processes[node.gateway.id] = node.workeroutput[_PROPERTY]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.stash.get(_REPORT_KEY, None)
    if report is None:
        return
    process = config.stash[_PROCESS_KEY]
    if not report.processes:  # no workers: this process ran the tests
        report.processes[f"pid {os.getpid()}"] = process.summary()
    write = terminalreporter.write_line
    terminalreporter.section("CPU report (seconds)")

    def idle(row: tuple[str, float, float, float, float]) -> float:
        return row[1] - row[2] - row[3] - row[4]

    tests = sorted(_reports, key=idle, reverse=True)
    wall = sum(row[1] for row in tests)
    own = sum(row[2] for row in tests)
    others = sum(row[3] for row in tests)
    queued = sum(row[4] for row in tests)
    write(
        f"{len(tests)} tests: wall {wall:.1f}, CPU {own:.1f} + other processes {others:.1f}, "
        f"waiting for a core {queued:.1f}, idle {wall - own - others - queued:.1f}"
    )
    write(f"{'wall':>7} {'CPU':>7} {'others':>7} {'queued':>7} {'idle':>7}  test")
    for row in tests[: report.top]:
        name, t_wall, t_own, t_others, t_queued = row
        write(
            f"{t_wall:7.2f} {t_own:7.2f} {t_others:7.2f} {t_queued:7.2f} {idle(row):7.2f}  {name}"
        )
    write("CPU of each process before its tests: start-up and collection; first test's set-up")
    for name, summary in sorted(report.processes.items()):
        collected = summary["after_collection"] or 0.0
        first = summary["after_first_setup"]
        first_text = "-" if first is None else f"{first - collected:.2f}"
        write(
            f"  {name}: {collected:.2f} (of which at configure "
            f"{summary['before_collection'] or 0.0:.2f}); first set-up {first_text}"
        )
