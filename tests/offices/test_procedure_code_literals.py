"""The card pick-up's procedure code is written once, in `offices.models.ProcedureCode`: code
and templates compare with the enum (or `Procedure.is_card_pickup`), never the bare string."""

from __future__ import annotations

import ast
from pathlib import Path

import madoguchi

PACKAGE = Path(madoguchi.__file__).parent
CODE = "card_pickup"
ALLOWED = {
    "offices/models.py": "ProcedureCode itself",
    "forecasts/models.py": "a work kind's field prefix (`card_pickup_minutes`), not a code",
    "planning/workload.py": "`PICKUP_WORK`: the pure engine cannot import ProcedureCode",
}


def literal_places(code: str) -> set[str]:
    """Files under src/madoguchi holding `code` as a whole string constant (docstrings aside)
    or as a quoted string in a template."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value == code and id(node) not in docstrings:
                found.add(path.relative_to(PACKAGE).as_posix())
    for path in PACKAGE.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if f'"{code}"' in text or f"'{code}'" in text:
            found.add(path.relative_to(PACKAGE).as_posix())
    return found


def test_the_card_pickup_code_is_written_only_in_procedure_code() -> None:
    assert literal_places(CODE) == set(ALLOWED)


def test_the_scan_finds_a_code_written_as_a_string() -> None:
    """The scan's control: another procedure's code, still written out in places, is found."""
    assert "demo/city.py" in literal_places("pin_reset")
