"""A kept world (tests/personas.py) is rolled back before the next test that cannot share it
sets up anything — seen failing in a two-file run: a `demo_city` test, then a live-server
browser test whose world build found the database locked ("database is locked" on SQLite: the
world's transaction was still open on a connection the browser test no longer saw, so its
per-test release came too late). A pair of the same kinds — a test holding the cheapest kept
world (`personas`), then a browser test committing rows of its own
(tests/browser/kept_world_pair.py) — runs in a pytest of its own, in that order: without the
hook its build finds the database locked, as the first pair's did."""

from __future__ import annotations

import pytest

from tests import inner_pytest

pytestmark = [pytest.mark.browser]

PAIR = (
    "tests/browser/kept_world_pair.py::test_a_test_holding_the_personas_world",
    "tests/browser/kept_world_pair.py::test_a_live_server_test_commits_its_rows_and_reads_them",
)
"""A test holding a kept world, then a browser test that commits rows and reads them."""


def test_a_live_server_test_after_a_kept_world_test_finds_the_database_free() -> None:
    ran = inner_pytest.run(*PAIR, plugins=["pytest_django.plugin"], timeout=300)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert "2 passed" in ran.stdout, ran.stdout[-3000:]
