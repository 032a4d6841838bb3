"""A pytest of its own, started from a test — for what only a separate run shows: a plugin's
report or failure at the end of a session (tests/test_cpu_report.py, tests/test_clean_tree.py),
or an order of tests that must not depend on what the suite ran before
(tests/browser/test_kept_world_then_live_server.py).

The child loads no plugin by itself (`PYTEST_DISABLE_PLUGIN_AUTOLOAD`): only those the caller
names with `plugins`, so it starts without importing the installed ones it does not use (the
schemathesis and Hypothesis plugins' entry points among them). It runs in one process (no
pytest-xdist), keeps no cache, and inherits none of this run's pytest or test-database
variables: it runs on SQLite, on its own test database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_NOT_INHERITED = ("PYTEST_", "DJANGO_", "DATABASE_URL", "MADOGUCHI_TEST_DATABASE_URL")
"""This run's own: pytest-xdist's worker, pytest-django's settings and async flag, the database
the suite was pointed at."""


def run(
    *args: str, plugins: Sequence[str], suite: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m pytest -q args…` with only `plugins` loaded.

    With `suite`, a folder of test files written by the test: the child runs there, without the
    repository's configuration (`-c /dev/null`, `--rootdir suite`) but with the repository
    importable (`tests.…` plugins). Without it: in the repository, with its configuration and
    conftest (name `pytest_django.plugin` among `plugins` for Django)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    options = [option for plugin in plugins for option in ("-p", plugin)]
    options += ["-p", "no:xdist", "-p", "no:cacheprovider"]
    if suite is not None:
        env["PYTHONPATH"] = str(REPO)
        options += ["-c", os.devnull, "--rootdir", str(suite)]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *options, *args],
        cwd=suite if suite is not None else REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
