"""PostgreSQL: connected as the application's role, nobody can cut the audit log.

Migrations run as the owner; `migrate` grants the application's role (`MADOGUCHI_DB_APP_ROLE`;
`.ci/start-postgres` makes `madoguchi_app`) what the application needs. As that role, DELETE,
TRUNCATE, disabling or dropping the triggers and updating an event's content are refused,
while the application itself — appending, sealing, verifying — works. The negative control:
the same statements succeed for the owner.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from madoguchi.core import audit
from madoguchi.core.audit import Actor, record_audit_event, seal_audit_events, verify_audit_chain
from madoguchi.core.models import AuditEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REFUSED_STATEMENTS = {
    "DELETE": "DELETE FROM core_auditevent WHERE id = {id}",
    "TRUNCATE": "TRUNCATE core_auditevent",
    "DISABLE TRIGGER USER": "ALTER TABLE core_auditevent DISABLE TRIGGER USER",
    "DISABLE TRIGGER no_update": (
        "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_update"
    ),
    "DROP TRIGGER": "DROP TRIGGER core_auditevent_no_update ON core_auditevent",
    "UPDATE content": "UPDATE core_auditevent SET actor = 'mallory' WHERE id = {id}",
    "UPDATE the seal of a sealed event": (
        "UPDATE core_auditevent SET hash = repeat('f', 64) WHERE id = {id}"
    ),
    "ALTER TABLE OWNER": "ALTER TABLE core_auditevent OWNER TO CURRENT_USER",
    "REPLACE the trigger function": (
        "CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS "
        "$$ BEGIN RETURN NULL; END; $$ LANGUAGE plpgsql"
    ),
}


@pytest.fixture
def app_role(settings: Any) -> Iterator[tuple[str, str]]:
    """(role, password): `.ci/start-postgres`'s role, or one this test makes; granted by a
    `migrate` run as the owner, as a deployment does."""
    role = settings.MADOGUCHI_DB_APP_ROLE or "madoguchi_app_test"
    password = secrets.token_urlsafe(16)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        cursor.execute(
            f"{verb} ROLE {connection.ops.quote_name(role)} LOGIN NOSUPERUSER NOCREATEDB "
            f"NOCREATEROLE PASSWORD %s",
            [password],
        )
    settings.MADOGUCHI_DB_APP_ROLE = role
    call_command("migrate", verbosity=0)  # nothing to apply; its post_migrate grants
    yield role, password


def _connect_as(role: str, password: str) -> Any:
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        dbname=db["NAME"],
        user=role,
        password=password,
        autocommit=True,
    )


def _sealed_event() -> AuditEvent:
    event = record_audit_event(actor=Actor.system("t"), action="a", subject_type="x", subject_id=1)
    seal_audit_events()
    return AuditEvent.objects.get(pk=event.pk)


@pytest.mark.parametrize("statement", sorted(REFUSED_STATEMENTS))
def test_the_application_role_cannot_cut_or_change_the_audit_log(
    statement: str, app_role: tuple[str, str]
) -> None:
    import psycopg

    event = _sealed_event()
    text = REFUSED_STATEMENTS[statement].format(id=event.pk)
    with _connect_as(*app_role) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (app_role[0],)
        assert conn.execute("SELECT count(*) FROM core_auditevent").fetchone() == (1,)
        with pytest.raises(psycopg.Error) as refused:
            conn.execute(text)
    message = str(refused.value)
    assert any(
        reason in message for reason in ("permission denied", "must be owner", "append-only")
    ), message
    assert AuditEvent.objects.filter(pk=event.pk, actor=event.actor, hash=event.hash).exists()
    assert verify_audit_chain().intact


def test_negative_control_the_owner_can_do_what_the_role_cannot() -> None:
    """The refusals above come from the role, not from statements that fail anyway."""
    event = _sealed_event()
    for text in ("DISABLE TRIGGER USER", "DELETE", "TRUNCATE"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
            cursor.execute(REFUSED_STATEMENTS[text].format(id=event.pk))
            transaction.set_rollback(True)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_application_works_as_its_role(app_role: tuple[str, str], settings: Any) -> None:
    """Appending, sealing (the one UPDATE it may make) and verifying, in a process connected as
    the application's role."""
    role, password = app_role
    db = connection.settings_dict
    code = (
        "import django; django.setup()\n"
        "from django.db import connection, transaction\n"
        "from madoguchi.core.audit import Actor, record_audit_event, verify_audit_chain\n"
        "with transaction.atomic():\n"
        "    record_audit_event(actor=Actor.system('app'), action='as-role', subject_type='x',"
        " subject_id=1)\n"
        "with connection.cursor() as c:\n"
        "    c.execute('SELECT current_user'); print(c.fetchone()[0])\n"
        "print(verify_audit_chain().intact)\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{role}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MADOGUCHI_AUDIT_SEAL_MS": "0",
        "MADOGUCHI_AUDIT_CHECKPOINT_FILE": str(settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE),
        "DJANGO_SETTINGS_MODULE": "madoguchi.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, timeout=60, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [role, "True"]
    event = AuditEvent.objects.get(action="as-role")
    assert event.seq == 1
    assert verify_audit_chain().intact


def test_a_forged_row_inserted_as_the_application_role_is_refused_by_the_sealer(
    app_role: tuple[str, str],
) -> None:
    """Forgery (d) with the only rights the role has: INSERT an unsealed row (its seal copied
    from a real event), wait for the sealer."""
    real = _sealed_event()
    with _connect_as(*app_role) as conn:
        (forged,) = conn.execute(
            "INSERT INTO core_auditevent (at, actor, action, subject_type, subject_id, before,"
            " after, previous_hash, hash, mac) VALUES (now(), 'staff:1:admin', 'card.hand_over',"
            " 'issuance.CardRecord', '77', NULL, '{\"status\": \"handed_over\"}', '', '', %s)"
            " RETURNING id",
            [real.mac],
        ).fetchone()
    record_audit_event(actor=Actor.system("t"), action="real", subject_type="x", subject_id=2)
    seal_audit_events()  # (the commit above sealed already: autocommit, interval 0)
    assert AuditEvent.objects.get(action="real").seq == 2
    assert AuditEvent.objects.get(pk=forged).seq == -forged
    report = verify_audit_chain()
    assert report.kinds == ["unvouched"]
    assert report.first_bad_id == forged


def test_a_seal_forged_as_the_application_role_is_named(
    app_role: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role may write the seal columns of an unsealed row once — with a made-up link the
    chain names it."""
    real = _sealed_event()
    monkeypatch.setattr(audit, "seal_after_commit", lambda: None)  # the sealer is slow today
    waiting = record_audit_event(
        actor=Actor.system("t"), action="w", subject_type="x", subject_id=3
    )
    with _connect_as(*app_role) as conn:
        conn.execute(
            "UPDATE core_auditevent SET seq = 2, previous_hash = %s, hash = repeat('e', 64)"
            " WHERE id = %s",
            [real.hash, waiting.pk],
        )
    report = verify_audit_chain()
    assert report.kinds == ["forged-seal"]
    assert report.first_bad_id == waiting.pk
