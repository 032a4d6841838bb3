"""Worlds for live-server tests, built once per process and restored for every later test.

A live-server test (a browser test) cannot share a world held in a rolled-back transaction, as
`tests/personas.py` does for the others: the server answers from its own thread and connection,
so the rows must be committed, and the test's end flushes the database. Its world — a town with
slots and cards, the demo city — was built again by every test, seconds each.

`committed(key, build)` builds the world the first time a process asks for `key`, then copies
the whole database file aside (SQLite's online backup API, as `tests/template_db.py` copies the
template). A later test asking for the same key starts, like every transactional test, from the
flushed database, and gets the copy written back over it: the same rows, committed, the same
primary keys — what the build would have made, without making it. What the build wrote to the
audit checkpoint file is written again into this test's own file. The test then changes the rows
as it likes; its end flushes them as before, so the next test's restore starts from the same
state.

Anything but a file-backed SQLite database (PostgreSQL, an in-memory database) builds every time.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import datetime as dt
import itertools
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SAME_MOMENT = dt.timedelta(minutes=1)
"""How far apart two tests' clocks may start to share a world built at the first one's."""


@dataclass(frozen=True)
class _Kept:
    database: Path
    value: Any
    checkpoints: bytes
    started: dt.datetime
    """The clock when the build began: a restore serves tests that begin at that moment."""
    finished: dt.datetime
    """The clock when it ended: a restored test's clock is moved on to it, so nothing it
    stamps comes before a row of the build (its clock runs on from the same start)."""

    def fits(self, now: dt.datetime) -> bool:
        return abs(now - self.started) <= SAME_MOMENT


_kept: dict[Hashable, _Kept] = {}
"""This process's kept worlds (pytest-xdist: each worker its own)."""
_folder: list[Path] = []
_numbers = itertools.count()


def committed(key: Hashable, build: Callable[[], T]) -> T:
    """What `build()` returns, with the rows it commits — built once per process for `key`
    (which must name everything the build depends on), restored from a copy of the database
    for every later test that asks for the same key. Each call gets its own deep copy of the
    returned objects."""
    from django.conf import settings
    from django.db import connection

    from madoguchi.core import clock

    if not _copyable(connection):
        return build()
    kept = _kept.get(key)
    if kept is not None and kept.fits(clock.now()):
        _restore(connection, kept.database)
        _append(Path(settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE), kept.checkpoints)
        _clock_past(kept.finished)
        restored: T = copy.deepcopy(kept.value)
        return restored
    checkpoint_file = Path(settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE)
    before = checkpoint_file.stat().st_size if checkpoint_file.exists() else 0
    started = clock.now()
    value = build()
    finished = clock.now()
    database = _directory() / f"world-{next(_numbers)}.sqlite3"
    _save(connection, database)
    written = checkpoint_file.read_bytes()[before:] if checkpoint_file.exists() else b""
    _kept[key] = _Kept(database, copy.deepcopy(value), written, started, finished)
    return value


def _clock_past(moment: dt.datetime) -> None:
    """Move the travelling clock (tests/frozen_clock.py) on to `moment` if it is not there yet."""
    import time_machine

    from madoguchi.core import clock

    behind = moment - clock.now()
    if behind > dt.timedelta(0) and time_machine.traveller_stack:
        time_machine.traveller_stack[-1].shift(behind)


def _copyable(connection: Any) -> bool:
    if connection.vendor != "sqlite":
        return False
    name = connection.settings_dict["NAME"]
    if connection.creation.is_in_memory_db(name):
        return False
    if connection.in_atomic_block:  # a test that rolls back: its rows are not committed
        raise RuntimeError("tests.live_worlds keeps committed worlds for live-server tests only")
    return True


def _directory() -> Path:
    """A temporary folder of this process's own, removed when it ends."""
    if not _folder:
        _folder.append(Path(tempfile.mkdtemp(prefix="madoguchi-live-worlds-")))
        atexit.register(shutil.rmtree, _folder[0], True)
    return _folder[0]


def _save(connection: Any, target: Path) -> None:
    connection.ensure_connection()
    with contextlib.closing(sqlite3.connect(target)) as copy_of:
        connection.connection.backup(copy_of)
    target.chmod(0o600)


def _restore(connection: Any, source: Path) -> None:
    connection.ensure_connection()
    with contextlib.closing(sqlite3.connect(source)) as kept:
        kept.backup(connection.connection)


def _append(path: Path, written: bytes) -> None:
    if not written:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        file.write(written)


def demo_city(*, residents: int, seed: int, today: dt.date) -> Any:
    """`madoguchi.demo.city.build_demo_city(residents=…, seed=…, today=…)` for a live-server
    test (its `DemoSummary`), built once per process for each set of arguments and moment."""
    from madoguchi.demo.city import build_demo_city

    return committed(
        ("demo_city", residents, seed, today),
        lambda: build_demo_city(residents=residents, seed=seed, today=today),
    )


def demo_city_signed_in(
    page: Any,
    base_url: str,
    *,
    residents: int,
    seed: int,
    today: dt.date,
    username: str = "demo-manager",
    password: str = "madoguchi-demo",
) -> Any:
    """`demo_city(…)` with `username` signed in in `page`'s browser (`signed_in_world`)."""
    from madoguchi.demo.city import build_demo_city

    return signed_in_world(
        page,
        base_url,
        ("demo_city", residents, seed, today),
        lambda: build_demo_city(residents=residents, seed=seed, today=today),
        username=username,
        password=password,
    )


def signed_in_world(
    page: Any,
    base_url: str,
    key: tuple[Any, ...],
    build: Callable[[], T],
    *,
    username: str,
    password: str,
) -> T:
    """`committed(key, build)` with `username` then signed in through both steps in `page`'s
    browser — once per process, as part of the kept world: a later test gets the rows (the
    session among them) and the browser's cookies of that sign-in, not a sign-in of its own.
    For tests that are not about signing in (tests/browser/test_staff_login.py is)."""

    def build_and_sign_in() -> tuple[T, list[Any]]:
        value = build()
        sign_in(page, base_url, username, password)
        return value, page.context.cookies()

    value, cookies = committed((*key, "signed in", username), build_and_sign_in)
    page.context.add_cookies(cookies)
    return value


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    """The staff sign-in in the browser, both steps, ending on the staff start page."""
    from tests.conftest import pass_second_factor

    page.goto(f"{base_url}/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="ログイン").click()
    pass_second_factor(page, username)
    page.wait_for_url(f"{base_url}/staff/")
