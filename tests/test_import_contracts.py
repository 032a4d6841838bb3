"""The import contracts themselves (`pyproject.toml`, checked by `lint-imports` in `make check`):
no exception is listed in any of them, and each covers every module it must — a module added
later is inside the rule from the start instead of outside it until someone remembers the list.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import madoguchi

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(madoguchi.__file__).parent


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return {c["type"] + ": " + c["name"]: c for c in contracts}


def _one(kind: str, words: str) -> dict[str, Any]:
    (found,) = [c for key, c in _contracts().items() if key.startswith(kind) and words in key]
    return found


def _top_level() -> set[str]:
    """Every package and module directly under `madoguchi` (`madoguchi.x`)."""
    return {f"madoguchi.{m.name}" for m in pkgutil.iter_modules([str(PACKAGE)])}


def _reservations_modules() -> set[str]:
    where = PACKAGE / "reservations"
    return {f"madoguchi.reservations.{m.name}" for m in pkgutil.iter_modules([str(where)])}


def test_no_contract_lists_an_exception() -> None:
    contracts = _contracts()
    assert len(contracts) >= 4  # the scan reads the contracts
    assert {k: c["ignore_imports"] for k, c in contracts.items() if "ignore_imports" in c} == {}


def test_the_layers_contract_holds_every_module_of_the_package() -> None:
    layers = _one("layers", "interfaces")
    assert layers["containers"] == ["madoguchi"]
    assert layers["exhaustive"] is True  # lint-imports fails for a module in no layer
    named = {f"madoguchi.{name.strip()}" for layer in layers["layers"] for name in layer.split("|")}
    assert named == _top_level()


def test_the_interfaces_are_independent_and_are_the_layers_interfaces() -> None:
    layers = _one("layers", "interfaces")["layers"]
    (interfaces,) = [layer for layer in layers if "resident_site" in layer]
    independent = _one("independence", "interfaces")["modules"]
    assert set(independent) == {f"madoguchi.{name.strip()}" for name in interfaces.split("|")}


def test_planning_may_import_nothing_else_of_the_project() -> None:
    pure = _one("forbidden", "planning is pure")
    assert pure["source_modules"] == ["madoguchi.planning"]
    forbidden = set(pure["forbidden_modules"])
    assert {"django", "ninja"} <= forbidden
    assert _top_level() - {"madoguchi.planning"} <= forbidden


def test_only_the_booking_service_may_import_the_booking_statement() -> None:
    """Every module but `reservations.services` (and the statement itself) is a source of the
    forbidden contract — the rest of `reservations` included, module by module."""
    contract = _one("forbidden", "booking statement")
    assert contract["forbidden_modules"] == ["madoguchi.reservations.fastpath"]
    sources = set(contract["source_modules"])
    must = (_top_level() - {"madoguchi.reservations"}) | (
        _reservations_modules()
        - {"madoguchi.reservations.services", "madoguchi.reservations.fastpath"}
    )
    assert "madoguchi.reservations.notify" in must  # the scan sees the package's modules
    assert sorted(must - sources) == []


def test_no_module_reaches_a_model_by_name_past_the_contracts() -> None:
    """`apps.get_model` is an import import-linter cannot see (pacing once probed bookings that
    way); only migrations, which must, use it."""
    found = sorted(
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and "get_model(" in path.read_text(encoding="utf-8")
    )
    assert found == []


def test_the_bookings_reads_do_not_import_its_writes() -> None:
    """reservations.selectors and reservations.services once imported each other."""
    contract = _one("forbidden", "reads do not import its writes")
    assert contract["source_modules"] == ["madoguchi.reservations.selectors"]
    assert contract["forbidden_modules"] == ["madoguchi.reservations.services"]
