"""`make` makes its venv from an optimised interpreter when there is one (decision 0012)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION_PYTHON = Path("/usr/bin/python3.11")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _venv_command(tmp_path: Path, *args: str) -> str:
    venv = tmp_path / "venv"
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", f"VENV={venv}", *args, f"{venv}/.installed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    first = out.splitlines()[0]
    prefix = f"test -x {venv}/bin/python || "
    assert first.startswith(prefix), out
    return first.removeprefix(prefix)


def _usable(python: Path) -> bool:
    probe = "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))"
    return python.exists() and subprocess.run([python, "-c", probe]).returncode == 0


def test_the_venv_comes_from_the_distributions_python_when_it_is_usable(tmp_path: Path) -> None:
    expected = str(DISTRIBUTION_PYTHON) if _usable(DISTRIBUTION_PYTHON) else "python3"
    assert _venv_command(tmp_path) == f"{expected} -m venv {tmp_path / 'venv'}"


def test_an_interpreter_given_on_the_command_line_wins(tmp_path: Path) -> None:
    assert _venv_command(tmp_path, "PYTHON=/opt/other/python3") == (
        f"/opt/other/python3 -m venv {tmp_path / 'venv'}"
    )
