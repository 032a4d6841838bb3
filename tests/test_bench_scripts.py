"""The booking rush's wrk scripts: the page flow (`PAGE_SCRIPT`) and its steps driven alone
(`PHASE_SCRIPT`) read the same cookies, post the same form and read cookies from answers the same
way — one copy of those functions, `PAGE_HELPERS`, pasted into both."""

from __future__ import annotations

import re
from types import ModuleType

import pytest

from tests import bench_modules
from tests.bench_modules import BENCH

HELPERS = ("cookies", "form", "cookie")


def _rush() -> ModuleType:
    return bench_modules.load("bench_booking_rush.py", "bench_rush_scripts")


def test_the_page_scripts_helpers_are_written_once_in_the_source() -> None:
    source = (BENCH / "bench_booking_rush.py").read_text(encoding="utf-8")
    for name in HELPERS:
        assert len(re.findall(rf"local function {name}\(", source)) == 1, name


@pytest.mark.parametrize("script", ["PAGE_SCRIPT", "PHASE_SCRIPT"])
def test_each_page_script_defines_the_shared_helpers_before_it_calls_them(script: str) -> None:
    text = getattr(_rush(), script).format(
        slots="1, 2", site=1, day="2026-01-05", stride=10, offset=0, phase="booking"
    )
    for name in HELPERS:
        defined = [m.start() for m in re.finditer(rf"local function {name}\(", text)]
        assert len(defined) == 1, name
        calls = [m.start() for m in re.finditer(rf"(?<![\w.:]){name}\(", text)]
        # a Lua local is only seen by code after it: every call comes after the definition
        assert min(calls) == defined[0] + len("local function "), name
