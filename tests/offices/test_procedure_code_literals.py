"""The procedure codes the code relies on are written once, in `offices.models.ProcedureCode`:
code and templates compare with the enum (or `Procedure.is_card_pickup`), never the bare string."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

import madoguchi
from madoguchi.offices.models import ProcedureCode

PACKAGE = Path(madoguchi.__file__).parent
ALLOWED = {
    ProcedureCode.CARD_PICKUP: {
        "offices/models.py": "ProcedureCode itself",
        "forecasts/models.py": "a work kind's field prefix (`card_pickup_minutes`), not a code",
        "planning/workload.py": "`PICKUP_WORK`: the pure engine cannot import ProcedureCode",
    },
    ProcedureCode.CERT_RENEWAL: {
        "offices/models.py": "ProcedureCode itself",
        "forecasts/models.py": "a work kind's field prefix (`cert_renewal_minutes`), not a code",
        "forecasts/selectors.py": "the work kind `cert_renewal` mapped to its ProcedureCode",
        "forecasts/staffing_plan.py": "the work kind `cert_renewal` among the certificate work",
        "planning/workload.py": "the work kind in `WORK_KINDS` (the pure engine's own names)",
    },
    ProcedureCode.CARD_APPLICATION: {
        "offices/models.py": "ProcedureCode itself",
    },
    ProcedureCode.PIN_RESET: {
        "offices/models.py": "ProcedureCode itself",
        "forecasts/models.py": "a work kind's field prefix (`pin_reset_minutes`), not a code",
        "planning/workload.py": "`PIN_RESET_WORK`: the pure engine cannot import ProcedureCode",
    },
}


def literal_places(code: str, package: Path = PACKAGE) -> set[str]:
    """Files under `package` (src/madoguchi) holding `code` as a whole string constant
    (docstrings aside) or as a quoted string in a template."""
    python, templates = _sources(package)
    found = {name for name, constants in python.items() if code in constants}
    found |= {
        name for name, text in templates.items() if f'"{code}"' in text or f"'{code}'" in text
    }
    return found


@functools.cache
def _sources(package: Path) -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """Each Python file's string constants (docstrings aside, migrations left out) and each
    template's text under `package` — read and parsed once per package for every code asked
    about, not once per code."""
    python: dict[str, frozenset[str]] = {}
    for path in package.rglob("*.py"):
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
        python[path.relative_to(package).as_posix()] = frozenset(
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        )
    templates = {
        path.relative_to(package).as_posix(): path.read_text(encoding="utf-8")
        for path in package.rglob("*.html")
    }
    return python, templates


def test_every_procedure_code_is_scanned() -> None:
    assert set(ALLOWED) == set(ProcedureCode)


@pytest.mark.parametrize("code", sorted(ALLOWED))
def test_the_code_is_written_only_in_procedure_code(code: str) -> None:
    assert literal_places(code) == set(ALLOWED[code])


def test_the_scan_finds_a_code_written_as_a_string(tmp_path: Path) -> None:
    """The scan's control: a code written out in code or quoted in a template is found, one
    only named in a docstring or a migration is not."""
    (tmp_path / "views.py").write_text('WHICH = {"pin_reset": 1}\n', encoding="utf-8")
    (tmp_path / "doc.py").write_text('"""pin_reset"""\n', encoding="utf-8")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001_initial.py").write_text('X = "pin_reset"\n', encoding="utf-8")
    (tmp_path / "page.html").write_text("{% if code == 'pin_reset' %}{% endif %}", encoding="utf-8")
    assert literal_places("pin_reset", tmp_path) == {"views.py", "page.html"}
