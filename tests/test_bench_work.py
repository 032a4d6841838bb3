"""The instruction benchmark's bookkeeping (`bench/bench_booking_work.py`): which phase each
callgrind dump belongs to, and what a dump file says — read from files written as callgrind
writes them, so a wrong cut or a misread count fails here, not silently in the table."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from tests import bench_modules


def _work() -> ModuleType:
    return bench_modules.load("bench_booking_work.py", "bench_work_under_test")


POSTMASTER = 100


def dump(pid: int, mtime: float, *, reload: bool) -> dict[str, Any]:
    return {"pid": pid, "mtime": mtime, "reload": reload}


def test_a_reload_dump_closes_the_window_before_it_an_exit_dump_the_one_it_ends_in() -> None:
    dumps = [
        dump(POSTMASTER, 1.0, reload=True),  # the server reading its configuration at start
        dump(POSTMASTER, 10.0, reload=True),  # reload 1: opens window 1
        dump(POSTMASTER, 20.0, reload=True),  # reload 2: opens window 2
        dump(7, 10.5, reload=True),  # a background process at reload 1
        dump(8, 12.0, reload=True),  # a client idle at reload 1, dumping at its next command
        dump(8, 25.0, reload=True),  # the same client at reload 2, dumping at its goodbye
        dump(8, 25.5, reload=False),  # and its exit
        dump(9, 5.0, reload=False),  # a connection that ended before reload 1
    ]
    cuts = _work()._assign(dumps, POSTMASTER, ready=2.0)
    assert cuts == [10.0, 20.0]
    windows = [d["window"] for d in dumps]
    assert windows == [0, 0, 1, 0, 0, 1, 2, 0]


CALLGRIND = """\
# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  postgres
part: 2

desc: I1 cache:
desc: Timerange: Basic block 100 - 200
desc: Trigger: --dump-before=ProcessConfigFile

positions: line
events: Ir
summary: 1000
totals: 1000

ob=(1) /usr/lib/postgresql/15/bin/postgres
fl=(1) ???
fn=(1) PostgresMain
0 100
cfn=(2) PortalRun
calls=3 0
0 600
cfn=(3) CommitTransactionCommand
calls=2 0
0 150
fn=(2)
0 600
fn=(3)
+2 100
* 50
"""


def test_a_dump_file_gives_its_totals_calls_and_inclusive_costs(tmp_path: Path) -> None:
    path = tmp_path / "4242.2"
    path.write_text(CALLGRIND, encoding="utf-8")
    parsed = _work()._parse(path)
    assert parsed["pid"] == 4242 and parsed["total"] == 1000 and parsed["reload"] is True
    assert parsed["calls"] == {"PortalRun": 3, "CommitTransactionCommand": 2}
    assert parsed["received"] == {"PortalRun": 600, "CommitTransactionCommand": 150}
    assert parsed["own"] == {"PostgresMain": 100, "PortalRun": 600, "CommitTransactionCommand": 150}
