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
from tests.test_migrations import schema
call_command("migrate", verbosity=0)
json.dump(schema(connection), sys.stdout)
"""
"""Run in a child process: migrate its empty database from zero, print the schema."""


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


@pytest.mark.django_db
def test_migrating_from_zero_makes_the_schema_the_tests_run_on(tmp_path: Path) -> None:
    """The suite's databases are copies of a template migrated once (tests/template_db.py),
    possibly in an earlier run: here an empty database is migrated from zero in this run and
    must come out exactly as the one the tests use."""
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
        from_zero = json.loads(made.stdout)
    finally:
        if fresh is not None:
            with connection._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {fresh}")
    used = schema(connection)
    assert "core_auditevent" in from_zero["tables"]
    assert from_zero["migrations"] == used["migrations"]
    assert from_zero["tables"] == used["tables"]
    assert from_zero.get("sqlite_master") == used.get("sqlite_master")
