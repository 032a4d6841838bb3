"""The test database, migrated once per set of migrations and copied for every test process.

Each pytest-xdist worker has a database of its own; migrating it from zero cost every worker the
same seconds. The first process to need a database for a given set of migrations migrates its
own from zero, as pytest-django always did, and keeps a copy of the result — the *template* —
under a name made of the SHA-256 of every migration file, Django's version and the backend. Every
later process, in this run or the next, copies the template into its own database and migrates it
with `keepdb` (nothing left to apply; the post-migrate signals run as always). A change to any
migration changes the name, so a stale template is never used.

SQLite copies the file (the online backup API, so the write-ahead log is included); PostgreSQL
creates the worker's database with `CREATE DATABASE … TEMPLATE`. `MADOGUCHI_TEST_TEMPLATE=0`
migrates every process from zero as before. `tests/test_migrations.py` migrates an empty
database from zero in every run and compares its schema with the one the tests use.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TEMPLATE_DIR = Path(tempfile.gettempdir()) / "madoguchi-test-templates"


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
    name = f"sqlite-{migrations_digest()}"
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
    name = f"madoguchi_template_{migrations_digest()}"
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
        connection.close()
        with connection._nodb_cursor() as cursor:
            quoted = connection.ops.quote_name
            cursor.execute(f"CREATE DATABASE {quoted(name)} TEMPLATE {quoted(test_name)}")
        return config
