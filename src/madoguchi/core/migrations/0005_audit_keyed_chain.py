"""The keyed audit chain (decision 0016).

Adds each event's row seal (`mac`), seals the existing events with the key (after verifying
their unkeyed chain: `core.audit.rekey_legacy_chain`), and makes the database refuse, besides
every update but the one-time sealing: DELETE on both backends (SQLite had no DELETE trigger)
and TRUNCATE on PostgreSQL. The seal itself is now part of the content nobody may change.
"""

from django.db import migrations, models

CONTENT = ("at", "actor", "action", "subject_type", "subject_id", "before", "after", "mac")

POSTGRES_FUNCTION = (
    """CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.id = OLD.id
       AND """
    + " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in CONTENT)
    + """ THEN
        RETURN NEW;  -- sealing: the one change allowed, once
    END IF;
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql"""
)
POSTGRES_UP = [
    POSTGRES_FUNCTION,
    """CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only()""",
]
POSTGRES_DOWN = ["DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent"]
SQLITE_UP = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update",
    """CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent
WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.id = OLD.id AND """
    + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in CONTENT)
    + """)
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON core_auditevent
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS core_auditevent_no_delete"]


def forward(apps, schema_editor):
    from madoguchi.core.audit import rekey_legacy_chain

    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_update")
        rekey_legacy_chain(connection)
        schema_editor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_no_update")
        statements = POSTGRES_UP
    else:  # the column was added by rebuilding the table, which dropped its trigger
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_update")
        rekey_legacy_chain(connection)
        statements = SQLITE_UP
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    statements = POSTGRES_DOWN if schema_editor.connection.vendor == "postgresql" else SQLITE_DOWN
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_audit_sealing")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="mac",
            field=models.CharField(
                blank=True, default="", db_default="", max_length=96, verbose_name="記録時の署名"
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
