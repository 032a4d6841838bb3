"""The test database, migrated once per set of migrations and copied for every test process.

Each pytest-xdist worker has a database of its own; migrating it from zero cost every worker the
same seconds. The first process to need a database for a given set of migrations migrates its
own from zero, as pytest-django always did, and keeps a copy of the result — the *template* —
under a name made of the SHA-256 of every migration file, Django's version and the backend. Every
later process, in this run or the next, copies the template into its own database and migrates it
with `keepdb` (nothing left to apply; the post-migrate signals run as always). A change to any
migration changes the name, so a stale template is never used.

The process that migrates the template from zero also records what that migration made — its
`schema`, with the run it was made in — beside the template: in a run that built its template
(a clean checkout, CI) `tests/test_migrations.py` compares the database it runs on with that
record instead of migrating another empty database from zero in the same run with the same code
(~6.7 s CPU of a child process); a run that copied an earlier run's template still migrates one
from zero (decision 0042).

SQLite copies the file (the online backup API, so the write-ahead log is included); PostgreSQL
creates the worker's database with `CREATE DATABASE … TEMPLATE`. `MADOGUCHI_TEST_TEMPLATE=0`
migrates every process from zero as before. `tests/test_migrations.py` migrates an empty
database from zero in every run and compares its schema with the one the tests use.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TEMPLATE_DIR = Path(tempfile.gettempdir()) / "madoguchi-test-templates"
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"process-{os.getpid()}"
"""This run: the id pytest-xdist gives every worker of one run, or this process without it."""


def enabled() -> bool:
    return os.environ.get("MADOGUCHI_TEST_TEMPLATE", "1") != "0"


def migrations_digest() -> str:
    """SHA-256 over every installed app's migration files (path and content), Django's version,
    the database backend and the PostgreSQL application role the migrations grant to."""
    import django
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256()
    digest.update(django.get_version().encode())
    digest.update(connection.vendor.encode())
    digest.update(os.environ.get("MADOGUCHI_DB_APP_ROLE", "").encode())
    for app in sorted(apps.get_app_configs(), key=lambda a: a.label):
        module_name, _ = MigrationLoader.migrations_module(app.label)
        if module_name is None:
            continue
        try:
            module = __import__(module_name, fromlist=["__file__"])
        except ImportError:
            continue
        folder = Path(module.__file__ or "").parent
        for path in sorted(folder.glob("*.py")):
            digest.update(f"{app.label}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def template_name(vendor: str) -> str:
    """The template's name for this set of migrations on a backend (a file's on SQLite, a
    database's on PostgreSQL)."""
    if vendor == "sqlite":
        return f"sqlite-{migrations_digest()}"
    return f"madoguchi_template_{migrations_digest()}"


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """One process at a time builds or copies a template (others wait for it)."""
    TEMPLATE_DIR.mkdir(mode=0o700, exist_ok=True)
    with open(TEMPLATE_DIR / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def setup_databases(setup: Any, aliases: set[str], **kwargs: Any) -> Any:
    """`django.test.utils.setup_databases` for the default database, through its template."""
    from django.db import connections

    connection = connections["default"]
    keepdb = kwargs.pop("keepdb", False)
    if keepdb or not enabled() or "default" not in aliases:  # --reuse-db keeps its own
        return setup(aliases=aliases, keepdb=keepdb, **kwargs)
    if connection.vendor == "sqlite":
        return _sqlite(setup, connection, aliases, **kwargs)
    if connection.vendor == "postgresql":
        return _postgresql(setup, connection, aliases, **kwargs)
    return setup(aliases=aliases, **kwargs)


def _sqlite(setup: Any, connection: Any, aliases: set[str], **kwargs: Any) -> Any:
    name = template_name("sqlite")
    template = TEMPLATE_DIR / f"{name}.sqlite3"
    test_name = connection.creation._get_test_db_name()
    if connection.creation.is_in_memory_db(test_name):
        return setup(aliases=aliases, **kwargs)
    with _locked(name):
        if template.exists():
            for suffix in ("", "-wal", "-shm"):
                Path(test_name + suffix).unlink(missing_ok=True)
            _sqlite_copy(template, Path(test_name))
            return setup(aliases=aliases, keepdb=True, **kwargs)
        config = setup(aliases=aliases, **kwargs)  # migrated from zero, as without a template
        _record_from_zero(name, connection)
        connection.close()
        partial = template.with_suffix(".partial")
        _sqlite_copy(Path(connection.settings_dict["NAME"]), partial)
        partial.replace(template)
        return config


def _sqlite_copy(source: Path, target: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
    target.chmod(0o600)


def _postgresql(setup: Any, connection: Any, aliases: set[str], **kwargs: Any) -> Any:
    name = template_name("postgresql")
    test_name = connection.creation._get_test_db_name()
    with _locked(name):
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            have_template = cursor.fetchone() is not None
            if have_template:
                quoted = connection.ops.quote_name
                cursor.execute(f"DROP DATABASE IF EXISTS {quoted(test_name)}")
                cursor.execute(f"CREATE DATABASE {quoted(test_name)} TEMPLATE {quoted(name)}")
        if have_template:
            return setup(aliases=aliases, keepdb=True, **kwargs)
        config = setup(aliases=aliases, **kwargs)  # migrated from zero, as without a template
        _record_from_zero(name, connection)
        connection.close()
        with connection._nodb_cursor() as cursor:
            quoted = connection.ops.quote_name
            cursor.execute(f"CREATE DATABASE {quoted(name)} TEMPLATE {quoted(test_name)}")
        return config


def schema(conn: Any) -> dict[str, Any]:
    """Everything the migrations made, comparable between two databases of one backend: every
    table with its columns and constraints, the applied migrations, and on SQLite every
    table's, index's and trigger's own SQL."""
    with conn.cursor() as cursor:
        tables = sorted(conn.introspection.table_names(cursor))
        found: dict[str, Any] = {
            "tables": {
                table: {
                    "columns": [
                        [c.name, str(c.type_code), c.null_ok]
                        for c in conn.introspection.get_table_description(cursor, table)
                    ],
                    "constraints": {
                        name: {k: sorted(v) if isinstance(v, list) else v for k, v in c.items()}
                        for name, c in conn.introspection.get_constraints(cursor, table).items()
                        if not name.startswith("__")  # SQLite's unnamed ones, numbered
                    },
                }
                for table in tables
            }
        }
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        found["migrations"] = [list(row) for row in cursor.fetchall()]
        if conn.vendor == "sqlite":
            cursor.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                "ORDER BY type, name"
            )
            found["sqlite_master"] = [list(row) for row in cursor.fetchall()]
    comparable: dict[str, Any] = json.loads(json.dumps(found, default=str))
    return comparable


def _record_path(name: str) -> Path:
    return TEMPLATE_DIR / f"{name}.from-zero.json"


def _record_from_zero(name: str, connection: Any) -> None:
    """Beside the template: the schema its database had right after its migration from zero,
    and the run that migrated it (written before the template itself, under the lock)."""
    partial = _record_path(name).with_suffix(".partial")
    partial.write_text(json.dumps({"run": RUN, "schema": schema(connection)}))
    partial.chmod(0o600)
    partial.replace(_record_path(name))


def migrated_from_zero_in_this_run() -> dict[str, Any] | None:
    """The schema this run's template had when this run migrated it from zero — None when the
    database was not copied from a template this run built (an earlier run's template, a kept
    database, `MADOGUCHI_TEST_TEMPLATE=0`)."""
    from django.db import connection

    if not enabled():
        return None
    try:
        record = json.loads(_record_path(template_name(connection.vendor)).read_text())
    except FileNotFoundError:
        return None
    if record["run"] != RUN:
        return None
    found: dict[str, Any] = record["schema"]
    return found
