"""tests/live_worlds.py: a live-server test's world built once per process, restored for the next
test asking for it — the same committed rows, whatever the test before did to them."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from madoguchi.offices.models import Municipality
from tests import live_worlds
from tests.frozen_clock import frozen_at

pytestmark = pytest.mark.django_db(transaction=True)

MOMENT = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


def _rows() -> list[tuple[Any, ...]]:
    return list(Municipality.objects.order_by("pk").values_list("pk", "code", "name"))


def _same(found: list[tuple[Any, ...]], kept: list[tuple[Any, ...]]) -> bool:
    """The same rows: with their primary keys where the world is restored (SQLite); without them
    where it is built again (PostgreSQL: the flush between tests resets the sequences, so a
    rebuild numbers its rows from 1 whatever the first build got)."""
    if connection.vendor == "sqlite":
        return found == kept
    return [row[1:] for row in found] == [row[1:] for row in kept]


def _end_of_test() -> None:
    """What pytest-django does at a transactional test's end."""
    call_command("flush", verbosity=0, interactive=False)


class Town:
    def __init__(self) -> None:
        self.builds = 0

    def __call__(self) -> Municipality:
        from tests.offices import factories as offices

        self.builds += 1
        offices.municipality(code="131041", name="みどり市")
        return offices.municipality(code="999997", name="あおば町")


def _committed_rows_seen_by_another_connection() -> list[tuple[str, str]]:
    with sqlite3.connect(connection.settings_dict["NAME"]) as other:
        found = other.execute(
            f"SELECT code, name FROM {Municipality._meta.db_table} ORDER BY code"
        ).fetchall()
    return [tuple(row) for row in found]


@pytest.fixture
def key(request: pytest.FixtureRequest) -> tuple[str, str]:
    return ("test", request.node.name)


def test_the_next_test_gets_the_same_committed_rows_without_building_them(
    key: tuple[str, str],
) -> None:
    town = Town()
    with frozen_at(MOMENT, tick=True):
        built = live_worlds.committed(key, town)
        rows = _rows()
    _end_of_test()
    assert _rows() == []
    with frozen_at(MOMENT, tick=True):
        again = live_worlds.committed(key, town)
    assert _same(_rows(), rows)  # same rows (on SQLite, same primary keys)
    assert again.code == built.code
    assert again is not built  # each test its own copy of the objects
    if connection.vendor == "sqlite":
        assert again.pk == built.pk
        assert town.builds == 1
        # committed: the live server's own connection sees them
        assert _committed_rows_seen_by_another_connection() == [
            ("131041", "みどり市"),
            ("999997", "あおば町"),
        ]
    else:  # PostgreSQL builds every time
        assert town.builds == 2


def test_what_a_test_changed_is_gone_for_the_next_one(key: tuple[str, str]) -> None:
    town = Town()
    with frozen_at(MOMENT, tick=True):
        live_worlds.committed(key, town)
        rows = _rows()
        Municipality.objects.filter(code="999997").update(name="変えた町")
        Municipality.objects.filter(code="131041").delete()
    _end_of_test()
    with frozen_at(MOMENT, tick=True):
        live_worlds.committed(key, town)
    assert _same(_rows(), rows)


def test_another_key_or_another_moment_builds_its_own(key: tuple[str, str]) -> None:
    town = Town()
    with frozen_at(MOMENT, tick=True):
        live_worlds.committed(key, town)
    _end_of_test()
    with frozen_at(MOMENT, tick=True):
        live_worlds.committed((*key, "other"), town)
    assert town.builds == 2
    _end_of_test()
    with frozen_at(MOMENT + dt.timedelta(days=1), tick=True):
        live_worlds.committed(key, town)
    assert town.builds == 3


def test_a_restored_test_stamps_nothing_before_the_build_s_rows(key: tuple[str, str]) -> None:
    """The clock runs on during a build (tick): a restored test's clock, started at the same
    moment, is moved on to where the build ended."""
    import time_machine

    from madoguchi.core import clock

    town = Town()

    def slow_build() -> Municipality:
        time_machine.traveller_stack[-1].shift(dt.timedelta(seconds=30))
        return town()

    with frozen_at(MOMENT, tick=True):
        live_worlds.committed(key, slow_build)
    _end_of_test()
    with frozen_at(MOMENT, tick=True):
        live_worlds.committed(key, slow_build)
        assert clock.now() >= MOMENT + dt.timedelta(seconds=30)
    assert town.builds == (1 if connection.vendor == "sqlite" else 2)


def test_the_build_s_audit_checkpoints_are_written_again_for_the_next_test(
    key: tuple[str, str], settings: Any, tmp_path: Path
) -> None:
    from madoguchi.core.audit import write_checkpoint

    def build() -> None:
        write_checkpoint(1, "0" * 64)

    with frozen_at(MOMENT):
        live_worlds.committed(key, build)
    written = Path(settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE).read_text()
    assert '"seq": 1' in written
    _end_of_test()
    settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE = tmp_path / "next-test.jsonl"
    with frozen_at(MOMENT):
        live_worlds.committed(key, build)
    assert Path(settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE).read_text() == written
