"""Deferred sealing of the audit chain (decision 0008).

Events are appended unsealed (`seq` empty) and linked into the chain after their transaction
commits. Existing events were chained in id order, so they take `seq = id`. The triggers keep
refusing every change except the one sealing update: `seq`, `previous_hash` and `hash` set once
on an unsealed event whose content stays the same.
"""

from django.db import migrations, models

CONTENT = ("at", "actor", "action", "subject_type", "subject_id", "before", "after")

POSTGRES_UP = [
    "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_update",
    "UPDATE core_auditevent SET seq = id",
    "ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_no_update",
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
$$ LANGUAGE plpgsql""",
]
POSTGRES_DOWN = [
    """CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql""",
]
# SQLite rebuilt the table for the altered columns, which dropped its trigger: create it anew.
SQLITE_UP = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update",
    "UPDATE core_auditevent SET seq = id",
    """CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent
WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.id = OLD.id AND """
    + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in CONTENT)
    + """)
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update",
    """CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]


def _run(sql_by_vendor):
    def run(apps, schema_editor):
        for statement in sql_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0003_rate_counters")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(
                blank=True, null=True, unique=True, verbose_name="チェーン上の順番"
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("seq__isnull", True)),
                fields=["id"],
                name="core_audit_unsealed",
            ),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        ),
    ]
