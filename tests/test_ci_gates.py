"""CI runs every gate (`.ci/run`): `make check` — ruff (format and lint), strict mypy over the
code and the tests, the import contracts, the migrations check and the tests on SQLite and
PostgreSQL — then every benchmark at its smoke size. Read from the files themselves and from
`make -n`, so a gate dropped from either fails here."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _ci_commands() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip().startswith("make ")]


def _recipe(target: str) -> str:
    """The commands `make target` runs (not run: `make -n`)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_ci_runs_make_check_then_every_benchmarks_smoke_run() -> None:
    assert _ci_commands() == ["make check", "make bench-smoke"]


def test_make_check_runs_every_gate() -> None:
    recipe = _recipe("check")
    for command in (
        "ruff format --check src tests bench",
        "ruff check src tests bench",
        "bin/mypy",
        "bin/lint-imports",
        "makemigrations --check --dry-run",
        '-m "not postgres"',  # SQLite, browser tests included
        'DATABASE_URL="$MADOGUCHI_TEST_DATABASE_URL"',  # then PostgreSQL
    ):
        assert command in recipe, command


def test_mypy_checks_the_tests_strictly_and_every_ignore_is_used() -> None:
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert mypy["strict"] is True
    assert set(mypy["packages"]) == {"madoguchi", "tests"}
    assert mypy["warn_unused_ignores"] is True  # a `type: ignore` that hides nothing fails


@pytest.mark.parametrize("target", ["bench", "bench-smoke"])
def test_make_bench_runs_every_benchmark(target: str) -> None:
    recipe = _recipe(target)
    assert "for b in bench/bench_*.py" in recipe
    if target == "bench-smoke":
        assert "BENCH_SMOKE=1" in recipe
    helpers = {"children.py", "pages.py", "smoke.py"}  # imported by the benchmarks, not run
    scripts = {p.name for p in (ROOT / "bench").glob("*.py")} - helpers
    assert len(scripts) > 10
    assert sorted(s for s in scripts if not s.startswith("bench_")) == []
