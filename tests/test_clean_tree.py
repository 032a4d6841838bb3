"""tests/clean_tree.py fails a run that leaves a new untracked file in the working tree.

A suite of one test runs in a pytest of its own, in a git working tree of its own: the test
writes one file where `.gitignore` puts it out of sight, one beside the tests and one named
":memory:" (what settings.py once made). The run fails naming the two, not the ignored one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import clean_tree

REPO = Path(__file__).resolve().parent.parent

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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env["PYTHONPATH"] = str(REPO)
    ran = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "tests.clean_tree", "-p", "no:django"),
            *("-p", "no:xdist", "-p", "no:cacheprovider", "-c", os.devnull),
            *("--rootdir", str(tmp_path), str(tmp_path / "test_leaves.py")),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "1 passed" in ran.stdout, ran.stdout
    listed = ran.stdout.split("files left in the working tree", 1)[-1]
    assert "  made.txt" in listed and "  :memory:" in listed, ran.stdout
    assert "kept.txt" not in listed, ran.stdout


def test_outside_a_git_working_tree_nothing_is_listed(tmp_path: Path) -> None:
    assert clean_tree.untracked(tmp_path) is None
