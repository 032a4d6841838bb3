"""Migration-data tests on a small throw-away database, never on the test database.

A test of a data migration takes the database back to the migration before, saves rows as they
were, applies the migration and reads what it made. Done on the suite's test database that meant
unapplying and re-applying every later migration of every app (13–54 s per test) and a
transactional test's flush. Here each module gets an empty database of its own (SQLite: a file
in a temporary folder; PostgreSQL: a database beside the worker's test database), created once,
and `steps.migrate(targets)` applies only what `targets` need — the apps concerned and their
dependencies — as Django's `MigrationExecutor` does in `migrate`. While a test runs, the default
connection IS that database (historical models from `steps.migrate` write there); the test
database is untouched and needs no flush.

A module asks for it with the fixture `migration_steps` (registered in tests/conftest.py).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


class MigrationSteps:
    """An empty database of its own, migrated step by step."""

    def __init__(self, wrapper: Any) -> None:
        self.connection = wrapper

    def migrate(self, targets: list[tuple[str, str]]) -> Any:
        """Migrate the throw-away database to `targets` (forwards or backwards, as `migrate`
        does); the historical models (apps) of that state."""
        from django.db.migrations.executor import MigrationExecutor

        MigrationExecutor(self.connection).migrate(targets)
        return MigrationExecutor(self.connection).loader.project_state(targets).apps

    def applied(self) -> set[tuple[str, str]]:
        """The migrations applied to the throw-away database now."""
        from django.db.migrations.recorder import MigrationRecorder

        return set(MigrationRecorder(self.connection).applied_migrations())


def _throwaway_settings(base: dict[str, Any], folder: Path) -> tuple[dict[str, Any], str | None]:
    """The default database's settings pointed at an empty database; the PostgreSQL database's
    name to create (None on SQLite)."""
    settings = copy.deepcopy(base)
    if settings["ENGINE"] == "django.db.backends.sqlite3":
        settings["NAME"] = str(folder / "steps.sqlite3")
        return settings, None
    name = f"{settings['NAME']}_steps_{uuid.uuid4().hex[:8]}"
    settings["NAME"] = name
    return settings, name


@pytest.fixture(scope="module")
def _migration_database(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The module's empty database (a connection to it, not the default one yet)."""
    from django.db import connections

    default = connections["default"]
    settings, created = _throwaway_settings(
        default.settings_dict, tmp_path_factory.mktemp("migration-steps")
    )
    with django_db_blocker.unblock():
        if created is not None:
            with default._nodb_cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {default.ops.quote_name(created)}")
        wrapper = type(default)(settings, "default")
        try:
            yield wrapper
        finally:
            wrapper.close()
            if created is not None:
                with default._nodb_cursor() as cursor:
                    cursor.execute(f"DROP DATABASE IF EXISTS {default.ops.quote_name(created)}")


@pytest.fixture
def migration_steps(_migration_database: Any, django_db_blocker: Any) -> Iterator[MigrationSteps]:
    """For the test's duration the default connection is the module's throw-away database
    (database access allowed, as a `django_db` test has it); the test database comes back
    after, untouched."""
    from django.db import connections

    original = connections["default"]
    connections["default"] = _migration_database
    try:
        with django_db_blocker.unblock():
            yield MigrationSteps(_migration_database)
    finally:
        connections["default"] = original
