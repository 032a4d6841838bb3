"""The migration-data tests' throw-away database (tests/migration_steps.py) applies only what
its targets need, and the test database never sees it."""

from __future__ import annotations

from django.db import connection

from tests.migration_steps import MigrationSteps


def test_steps_apply_only_the_migrations_their_targets_depend_on(
    migration_steps: MigrationSteps,
) -> None:
    assert migration_steps.applied() == set()
    migration_steps.migrate([("offices", "0002_counter_skills")])
    assert migration_steps.applied() == {
        ("offices", "0001_initial"),
        ("offices", "0002_counter_skills"),
    }
    migration_steps.migrate([("offices", "0001_initial")])
    assert migration_steps.applied() == {("offices", "0001_initial")}


def test_while_a_test_steps_the_default_connection_is_the_throwaway_database(
    migration_steps: MigrationSteps,
) -> None:
    assert connection.settings_dict["NAME"] == migration_steps.connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "core_auditevent" not in tables  # never migrated here; the test database has it
