"""The lock files in requirements/ pin, with hashes, exactly what pyproject.toml asks for.

`make` installs from them with `--require-hashes`; a dependency added to pyproject.toml without
`make lock` would be missing from the venv CI builds, so these tests name it instead.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        match = PIN.match(requirement)
        assert match, f"pyproject.toml pins every dependency exactly: {requirement!r}"
        pins[_canonical(match[1])] = match[2]
    return pins


def _locked(path: Path) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) for every package in a uv/pip-tools lock file."""
    locked: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = _canonical(match[1])
            locked[name] = (match[2], 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = locked[name]
            locked[name] = (version, hashes + 1)
    return locked


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = _declared(PROJECT["dependencies"])
DEV = _declared(PROJECT["optional-dependencies"]["dev"])


@pytest.mark.parametrize(
    ("lock", "declared"),
    [("base.txt", RUNTIME), ("dev.txt", RUNTIME | DEV)],
)
def test_every_declared_dependency_is_locked_at_its_pinned_version(
    lock: str, declared: dict[str, str]
) -> None:
    locked = _locked(REQUIREMENTS / lock)
    wrong = {
        name: (version, locked.get(name, ("missing", 0))[0])
        for name, version in declared.items()
        if locked.get(name, ("missing", 0))[0] != version
    }
    assert wrong == {}, f"run `make lock`: pyproject pin vs {lock}: {wrong}"


@pytest.mark.parametrize("lock", ["build.txt", "base.txt", "dev.txt"])
def test_every_locked_package_has_a_hash(lock: str) -> None:
    locked = _locked(REQUIREMENTS / lock)
    assert locked, f"{lock} lists no packages"
    assert [name for name, (_, hashes) in locked.items() if hashes == 0] == []


def test_the_servers_lock_holds_no_test_or_lint_tools() -> None:
    runtime = _locked(REQUIREMENTS / "base.txt")
    tools = {"pytest", "pytest-django", "hypothesis", "playwright", "ruff", "mypy", "uv"}
    assert tools <= DEV.keys()
    assert sorted(tools & runtime.keys()) == []


def test_the_dev_lock_agrees_with_the_servers_lock() -> None:
    runtime = _locked(REQUIREMENTS / "base.txt")
    dev = _locked(REQUIREMENTS / "dev.txt")
    assert {n: v for n, (v, _) in runtime.items() if dev.get(n, ("", 0))[0] != v} == {}
