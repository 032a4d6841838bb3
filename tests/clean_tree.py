"""A test run leaves no new file in the working tree.

Loaded as a plugin by tests/conftest.py. The process that reports (the one process, or
pytest-xdist's controller, after every worker has ended) asks git for the untracked files —
those `.gitignore` names aside: `var/`, caches — before the tests and after them; a file that
appeared meanwhile fails the run, named. Everything a test writes belongs in its `tmp_path` or
the data directory. (A DATABASE_URL of an in-memory SQLite database once made settings.py create
an empty file named ":memory:" in the working directory, and it was committed.) Outside a git
working tree, or without git, there is nothing to compare and nothing is checked.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

_BEFORE = pytest.StashKey[frozenset[str]]()


def untracked(root: Path) -> frozenset[str] | None:
    """The untracked files under `root` that `.gitignore` does not name, or None when `root`
    is not in a git working tree (or git is missing)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--others", "--exclude-standard", "-z"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if listed.returncode != 0:
        return None
    return frozenset(name for name in listed.stdout.decode("utf-8", "replace").split("\0") if name)


def _reports(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _reports(session.config):
        found = untracked(session.config.rootpath)
        if found is not None:
            session.config.stash[_BEFORE] = found


_MADE = pytest.StashKey[list[str]]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    before = session.config.stash.get(_BEFORE, None)
    if before is None:
        return
    after = untracked(session.config.rootpath)
    made = sorted((after or frozenset()) - before)
    if not made:
        return
    session.config.stash[_MADE] = made
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    made = config.stash.get(_MADE, None)
    if not made:
        return
    terminalreporter.section("files left in the working tree", red=True)
    terminalreporter.write_line(
        "the run made these untracked files (a test's files go in tmp_path):"
    )
    for name in made:
        terminalreporter.write_line(f"  {name}")
