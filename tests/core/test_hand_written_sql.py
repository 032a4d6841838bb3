"""Hand-written SQL lives in named places only, each for a stated reason; everything else uses
the ORM. The booking's one statement is `reservations/fastpath.py` (only `reservations.services`
imports it — an import contract); the others are database work the ORM has no words for (a
bulk COPY, an upsert counting in one statement, the audit chain's links and lock, grants,
backups). A new cursor, `.raw()`, `.extra()`, `RawSQL` or SQL text elsewhere fails here: write it
with the ORM, or add it below with its reason (docs/ARCHITECTURE.md names each)."""

from __future__ import annotations

import re
from pathlib import Path

import madoguchi

PACKAGE = Path(madoguchi.__file__).parent
SQL = re.compile(
    r"\.cursor\(|make_cursor\(|\.raw\(|\.extra\(|\bRawSQL\b|\.execute\(|\.executemany\("
    r"|[\"'](?:SELECT|UPDATE|INSERT|DELETE FROM|WITH|CREATE|GRANT|REVOKE|BEGIN|COPY|PRAGMA) "
)
PLACES = {
    "reservations/fastpath.py": "the booking's whole transaction as one statement (decision 0017)",
    "core/audit.py": "the chain's links in one UPDATE … unnest, its advisory lock, SQLite's wait",
    "core/ratelimit.py": "a hit counted by one atomic INSERT … ON CONFLICT DO UPDATE … RETURNING",
    "core/prepared.py": "an ORM read run as a server-side prepared statement (decision 0027)",
    "core/db_roles.py": "the application role's GRANTs after every migrate (docs/audit.md)",
    "core/backup.py": "the backup's fingerprint (rows per table, audit head), pg snapshot",
    "issuance/imports.py": "J-LIS deliveries: COPY / multi-row INSERT, one array parameter",
    "forecasts/register_import.py": "the resident register: COPY / executemany of its rows",
    "settings.py": "SQLite's PRAGMAs on every new connection",
}


def sql_places(package: Path = PACKAGE) -> set[str]:
    """Files under `package` (migrations aside) that send SQL of their own."""
    return {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if "migrations" not in path.parts and SQL.search(path.read_text(encoding="utf-8"))
    }


def test_hand_written_sql_is_only_in_its_named_places() -> None:
    assert sql_places() == set(PLACES)


def test_the_named_places_are_in_the_architecture() -> None:
    text = (PACKAGE.parents[1] / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text[text.index("### Hand-written SQL") :]
    assert [p for p in PLACES if f"`{p}`" not in section] == []


def test_the_scan_finds_sql_written_by_hand(tmp_path: Path) -> None:
    (tmp_path / "orm.py").write_text("Slot.objects.filter(pk=1).update(booked=2)\n")
    (tmp_path / "cursor.py").write_text("with connection.cursor() as c:\n    pass\n")
    (tmp_path / "extra.py").write_text("Card.objects.extra(where=['a = 1'])\n")
    (tmp_path / "text.py").write_text("Q = 'UPDATE slot SET booked = 0'\n")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0002.py").write_text("RunSQL('CREATE TRIGGER t')\n")
    assert sql_places(tmp_path) == {"cursor.py", "extra.py", "text.py"}
