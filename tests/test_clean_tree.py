"""tests/clean_tree.py fails a run that leaves a new untracked file in the working tree.

A suite of one test runs in a pytest of its own, in a git working tree of its own: the test
writes one file where `.gitignore` puts it out of sight, one beside the tests and one named
":memory:" (what settings.py once made). The run fails naming the two, not the ignored one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests import clean_tree, inner_pytest

SUITE = """
from pathlib import Path


def test_passes_but_leaves_files():
    Path("ignored").mkdir()
    Path("ignored", "kept.txt").write_text("x")
    Path("made.txt").write_text("x")
    Path(":memory:").touch()
"""


def test_a_run_that_leaves_untracked_files_fails_naming_them(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=60)
    (tmp_path / ".gitignore").write_text("ignored/\n__pycache__/\n", encoding="utf-8")
    (tmp_path / "test_leaves.py").write_text(SUITE, encoding="utf-8")
    assert clean_tree.untracked(tmp_path) == frozenset({".gitignore", "test_leaves.py"})
    ran = inner_pytest.run(
        str(tmp_path / "test_leaves.py"), plugins=["tests.clean_tree"], suite=tmp_path
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "1 passed" in ran.stdout, ran.stdout
    listed = ran.stdout.split("files left in the working tree", 1)[-1]
    assert "  made.txt" in listed and "  :memory:" in listed, ran.stdout
    assert "kept.txt" not in listed, ran.stdout


def test_outside_a_git_working_tree_nothing_is_listed(tmp_path: Path) -> None:
    assert clean_tree.untracked(tmp_path) is None
