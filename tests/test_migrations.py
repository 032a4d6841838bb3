"""Migrations are code: the models and the migration files agree, on every backend."""

from __future__ import annotations

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
