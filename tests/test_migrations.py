"""Migrations are code: the models and the migration files agree, on every backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from tests import template_db
from tests.template_db import schema


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    # The test database was migrated from zero (on SQLite, and on PostgreSQL in its pass).
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_audit_table_refuses_updates_at_database_level() -> None:
    from django.db import DatabaseError, transaction

    from madoguchi.core.audit import Actor, record_audit_event

    event = record_audit_event(
        actor=Actor.system("test"), action="probe", subject_type="x", subject_id=1
    )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET actor = 'mallory' WHERE id = %s", [event.pk])


SCHEMA = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from tests.template_db import schema
call_command("migrate", verbosity=0)
json.dump(schema(connection), sys.stdout)
"""
"""Run in a child process: migrate its empty database from zero, print the schema."""


def _migrated_from_zero_in_a_child(tmp_path: Path) -> dict[str, Any]:
    """An empty database migrated from zero by `migrate` in a child process, as a deployment
    does; its schema."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="madoguchi.settings")
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'from-zero.sqlite3'}"
        env["MADOGUCHI_DATA_DIR"] = str(tmp_path)
        fresh = None
    else:
        fresh = f"{connection.settings_dict['NAME']}_from_zero"
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {fresh}")
            cursor.execute(f"CREATE DATABASE {fresh}")
        url = os.environ["DATABASE_URL"]
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + fresh
    try:
        made = subprocess.run(
            [sys.executable, "-c", SCHEMA],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        from_zero: dict[str, Any] = json.loads(made.stdout)
        return from_zero
    finally:
        if fresh is not None:
            with connection._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {fresh}")


@pytest.mark.django_db
def test_migrating_from_zero_makes_the_schema_the_tests_run_on(tmp_path: Path) -> None:
    """The suite's databases are copies of a template migrated once (tests/template_db.py),
    possibly in an earlier run, and must be exactly what migrating an empty database from zero
    in this run makes. A run that built its template (a clean checkout, CI) migrated it from
    zero already: the database is compared with what that migration made, recorded then.
    Otherwise an empty database is migrated from zero here, in a child process (decision
    0042)."""
    from_zero = template_db.migrated_from_zero_in_this_run() or _migrated_from_zero_in_a_child(
        tmp_path
    )
    used = schema(connection)
    assert "core_auditevent" in from_zero["tables"]
    assert from_zero["migrations"] == used["migrations"]
    assert from_zero["tables"] == used["tables"]
    assert from_zero.get("sqlite_master") == used.get("sqlite_master")


def test_every_app_with_models_has_migrations() -> None:
    """The test runner migrates with `run_syncdb`, which also makes the tables of an app without
    migrations; `madoguchi migrate` does not — a template migrated from zero by the test runner
    is what a deployment's migration makes only if no app with models lacks migrations."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    with_models = {app.label for app in apps.get_app_configs() if any(app.get_models())}
    assert with_models - MigrationLoader(None, ignore_no_migrations=True).migrated_apps == set()
