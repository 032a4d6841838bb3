"""docs/issue-checklists.md names, for each point of an issue, the test that proves it: every
test module and test it names exists, so a renamed or deleted proof shows here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITED = re.compile(r"`(tests/[\w/]+\.py)((?:::\w+)?)`|`::(\w+)`")


def missing_proofs(text: str, root: Path = ROOT) -> list[str]:
    """Cited test files that do not exist and cited tests their file does not define (a bare
    `::name` belongs to the file cited before it)."""
    missing = []
    last = None
    for path, test, bare in CITED.findall(text):
        if path:
            last = root / path
            if not last.is_file():
                missing.append(path)
                continue
        name = (test or "").removeprefix("::") or bare
        if name and (last is None or f"def {name}(" not in last.read_text(encoding="utf-8")):
            missing.append(f"{path or '…'}::{name}")
    return missing


def test_every_test_the_checklists_cite_exists() -> None:
    text = (ROOT / "docs" / "issue-checklists.md").read_text(encoding="utf-8")
    assert len(CITED.findall(text)) > 30  # the checklist is read
    assert missing_proofs(text) == []


def test_a_renamed_proof_is_found(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_kept() -> None: ...\n")
    text = "`tests/test_a.py::test_kept`, `::test_gone`, `tests/test_b.py`"
    assert missing_proofs(text, tmp_path) == ["…::test_gone", "tests/test_b.py"]
