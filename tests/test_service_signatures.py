"""No function of the package takes a parameter only tests pass: the concurrency tests' negative
controls and pauses are module-level seams they monkeypatch (`reservations.services`,
`forecasts.backlog_plan`), so a production caller cannot switch a guard off by an argument and
no signature carries one. Every function is walked: a parameter named with a leading underscore
(the old way of marking one for tests) or for a negative control fails."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "madoguchi"


def _test_only_parameters(package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            found += [
                f"{path.relative_to(package)}:{node.lineno} {node.name}({argument.arg})"
                for argument in arguments
                if argument.arg.startswith("_") or "negative_control" in argument.arg
            ]
    return found


def test_no_function_takes_a_parameter_for_tests_only() -> None:
    assert _test_only_parameters(PACKAGE) == []


def test_the_walk_finds_a_parameter_for_tests(tmp_path: Path) -> None:
    """The check itself: signatures like the old ones are found."""
    (tmp_path / "services.py").write_text(
        "def book(*, slot_id, _unsafe_read_then_write=False): ...\n"
        "def move(code, unordered_for_the_negative_control=False): ...\n"
        "def plain(code, slot_id): ...\n",
        encoding="utf-8",
    )
    assert _test_only_parameters(tmp_path) == [
        "services.py:1 book(_unsafe_read_then_write)",
        "services.py:2 move(unordered_for_the_negative_control)",
    ]
