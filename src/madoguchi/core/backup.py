"""Backup and restore of the database, with a fingerprint that proves the copy (docs/backup.md).

`backup(FILE)` writes a consistent copy while the service runs — SQLite's online backup API, or
`pg_dump` (custom format) on PostgreSQL inside an exported snapshot — and beside it
`FILE.manifest.json` with the copy's fingerprint: rows per table and the audit chain's head, read
from exactly what was copied. `restore(FILE)` puts the copy back, recomputes the fingerprint and
refuses to call it done unless it is equal; then it appends a keyed `restore` checkpoint (the
chain restarts from the backup's head; `audit-verify` names the events given up with it).

Not in the copy, on purpose: the audit key and the checkpoint file (they must survive what the
database does not; back them up separately — docs/backup.md).
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections

from madoguchi.core import clock
from madoguchi.core.audit import write_checkpoint

MANIFEST_FORMAT = "madoguchi-backup 1"


class BackupError(Exception):
    """The backup or restore could not be made, or the restored data is not the backup."""


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def _fingerprint(cursor: Any, tables: list[str]) -> dict[str, Any]:
    """Rows per table and the audit chain's head, through any DB-API cursor."""
    counts = {}
    for table in sorted(tables):
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608  # names from the catalogue
        counts[table] = int(cursor.fetchone()[0])
    cursor.execute("SELECT seq, hash FROM core_auditevent WHERE seq > 0 ORDER BY seq DESC LIMIT 1")
    head = cursor.fetchone()
    cursor.execute("SELECT count(*) FROM core_auditevent WHERE seq IS NULL")
    unsealed = int(cursor.fetchone()[0])
    return {
        "tables": counts,
        "audit_head": {"seq": int(head[0]), "hash": str(head[1])} if head else None,
        "audit_unsealed": unsealed,
    }


def _sqlite_tables(cursor: Any) -> list[str]:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return [str(row[0]) for row in cursor.fetchall()]


def _pg_tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return [str(row[0]) for row in cursor.fetchall()]


def fingerprint() -> dict[str, Any]:
    """The fingerprint of the database as the application sees it now."""
    with connection.cursor() as cursor:
        tables = _pg_tables(cursor) if connection.vendor == "postgresql" else _sqlite_tables(cursor)
        return _fingerprint(cursor, tables)


def pg_program(name: str) -> str:
    """A PostgreSQL client program: on PATH, else the newest /usr/lib/postgresql/*/bin (as
    `.ci/start-postgres` finds the server's)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: [int(x) for x in Path(p).parts[-3].split(".") if x.isdigit()],
    )
    if not candidates:
        raise BackupError(f"{name} が見つかりません（PostgreSQL のクライアントを入れてください）")
    return candidates[-1]


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    args = ["--dbname", str(db["NAME"])]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _private_file(path: Path) -> Path:
    """A fresh temporary file beside `path`, readable by the owner only."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    temporary.unlink(missing_ok=True)
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return temporary


def backup(path: Path) -> dict[str, Any]:
    """Write a consistent copy of the live database to `path` and its manifest; returns the
    manifest. Safe while the service runs."""
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _private_file(path)
    try:
        if connection.vendor == "postgresql":
            fingerprint_ = _pg_backup(temporary)
        else:
            fingerprint_ = _sqlite_backup(temporary)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    manifest = {
        "format": MANIFEST_FORMAT,
        "backend": connection.vendor,
        "created_at": clock.now().astimezone(dt.UTC).isoformat(),
        "file": path.name,
        "fingerprint": fingerprint_,
    }
    target = manifest_path(path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(manifest, file, ensure_ascii=False, indent=2, sort_keys=True)
    return manifest


def _sqlite_backup(target: Path) -> dict[str, Any]:
    source = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=60)
    copy = sqlite3.connect(str(target))
    try:
        source.backup(copy)  # all pages in one step: one consistent snapshot, writers go on (WAL)
        cursor = copy.cursor()
        return _fingerprint(cursor, _sqlite_tables(cursor))
    finally:
        copy.close()
        source.close()


def _pg_backup(target: Path) -> dict[str, Any]:
    import psycopg

    args, env = _pg_env()
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"],
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        autocommit=True,
    ) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()  # type: ignore[misc]
        cursor = conn.cursor()
        fingerprint_ = _fingerprint(cursor, _pg_tables(cursor))
        # pg_dump reads the very snapshot the fingerprint was counted in
        done = subprocess.run(  # noqa: S603  # fixed program, arguments are not a shell
            [
                pg_program("pg_dump"),
                *args,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        conn.execute("COMMIT")
    if done.returncode != 0:
        raise BackupError(f"pg_dump が失敗しました: {done.stderr.strip()}")
    return fingerprint_


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{manifest_path(path)} を読めません: {error}") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"{manifest_path(path)} は madoguchi のバックアップの目録ではありません")
    return dict(manifest)


def restore(path: Path) -> dict[str, Any]:
    """Replace the database with the backup at `path`; returns its fingerprint, equal to the
    manifest's (else BackupError). Stop the service first. Appends a `restore` checkpoint."""
    path = Path(path).resolve()
    manifest = read_manifest(path)
    if manifest["backend"] != connection.vendor:
        raise BackupError(
            f"このバックアップは {manifest['backend']} のものです（いまのデータベースは"
            f" {connection.vendor}）"
        )
    connections.close_all()
    if connection.vendor == "postgresql":
        _pg_restore(path)
    else:
        _sqlite_restore(path)
    connections.close_all()  # nothing cached from the replaced database survives
    restored = fingerprint()
    if restored != manifest["fingerprint"]:
        differing = sorted(
            table
            for table in set(restored["tables"]) | set(manifest["fingerprint"]["tables"])
            if restored["tables"].get(table) != manifest["fingerprint"]["tables"].get(table)
        )
        raise BackupError(
            f"リストアした内容が目録と一致しません（{', '.join(differing) or '監査ログ'}）"
        )
    head = restored["audit_head"] or {"seq": 0, "hash": "0" * 64}
    write_checkpoint(
        head["seq"],
        head["hash"],
        kind="restore",
        backup=path.name,
        backup_created_at=manifest["created_at"],
    )
    return restored


def _sqlite_restore(path: Path) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = Path(str(connection.settings_dict["NAME"]))
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    live = sqlite3.connect(str(target), timeout=60)
    try:
        source.backup(live)
    finally:
        live.close()
        source.close()


def _pg_restore(path: Path) -> None:
    args, env = _pg_env()
    done = subprocess.run(  # noqa: S603  # fixed program, arguments are not a shell
        [
            pg_program("pg_restore"),
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            str(path),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore が失敗しました: {done.stderr.strip()}")
    role = settings.MADOGUCHI_DB_APP_ROLE
    if role:
        from madoguchi.core.db_roles import grant_app_role

        grant_app_role(connection, role)
