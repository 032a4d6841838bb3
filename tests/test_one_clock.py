"""One frozen clock: every test that stops or sets the time does it through
`tests/frozen_clock.py` (`frozen`, `frozen_at(…)`, the named moments), never by calling
time-machine or another clock library of its own (invariant 4, docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
THE_CLOCK = "frozen_clock.py"
FREEZING = {"travel"}  # time_machine's way to set the time (`move_to`/`shift` move a freeze)
OTHER_LIBRARIES = {"freezegun", "libfaketime", "time_travel"}


def freezes_outside_the_clock(tests: Path = TESTS) -> list[str]:
    """`file:line` of every call that freezes time, or import of another clock library, in any
    test module but the one clock."""
    found = []
    for path in sorted(tests.rglob("*.py")):
        if path.name == THE_CLOCK:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        name = path.relative_to(tests).as_posix()
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in FREEZING
                and isinstance(node.value, ast.Name)
                and node.value.id == "time_machine"
            ):
                found.append(f"{name}:{node.lineno}")
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] in OTHER_LIBRARIES | {"time_machine"}:
                    found.append(f"{name}:{node.lineno}")
            elif isinstance(node, ast.Import) and any(
                a.name.split(".")[0] in OTHER_LIBRARIES for a in node.names
            ):
                found.append(f"{name}:{node.lineno}")
    return found


def test_time_is_frozen_only_through_the_one_clock() -> None:
    assert (TESTS / THE_CLOCK).is_file()
    assert freezes_outside_the_clock() == []


def test_the_scan_finds_a_freeze_of_a_tests_own(tmp_path: Path) -> None:
    (tmp_path / THE_CLOCK).write_text(
        "import time_machine\nwith time_machine.travel(0):\n    pass\n", encoding="utf-8"
    )
    (tmp_path / "test_own.py").write_text(
        "import time_machine\nwith time_machine.travel(0, tick=False):\n    pass\n",
        encoding="utf-8",
    )
    (tmp_path / "test_other.py").write_text("from freezegun import freeze_time\n", encoding="utf-8")
    (tmp_path / "test_typed.py").write_text(
        "import time_machine\nT: time_machine.Traveller\n", encoding="utf-8"
    )
    assert freezes_outside_the_clock(tmp_path) == ["test_other.py:1", "test_own.py:2"]
