"""The audit log is append-only and hash-chained; `audit-verify` names the first bad entry."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from madoguchi.core.audit import Actor, record_audit_event, verify_audit_chain
from madoguchi.core.models import AppendOnlyError, AuditEvent

pytestmark = pytest.mark.django_db


def _three_events() -> list[AuditEvent]:
    return [
        record_audit_event(
            actor=Actor.system("test"),
            action="card.inspected",
            subject_type="issuance.CardRecord",
            subject_id=n,
            before={"status": "delivered"},
            after={"status": "inspected", "note": "印刷・IC 良好"},
        )
        for n in range(3)
    ]


def _tamper(sql: str, params: list[object]) -> None:
    """Change a row behind the application's back, as an intruder with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_update")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
        cursor.execute(sql, params)


def test_each_event_links_to_the_previous_one() -> None:
    first, second, third = _three_events()
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert verify_audit_chain().intact


def test_editing_an_event_is_refused_by_the_application() -> None:
    event = _three_events()[0]
    event.actor = "mallory"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(actor="mallory")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_verification_names_the_first_tampered_event() -> None:
    events = _three_events()
    _tamper(
        "UPDATE core_auditevent SET after = %s WHERE id = %s",
        ['{"status": "destroyed"}', events[1].pk],
    )
    report = verify_audit_chain()
    assert not report.intact
    assert report.first_bad_id == events[1].pk
    assert report.checked == 1


def test_removing_an_event_breaks_the_chain() -> None:
    events = _three_events()
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    report = verify_audit_chain()
    assert report.first_bad_id == events[2].pk


def test_audit_verify_command_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    events = _three_events()
    call_command("audit_verify")
    assert "正常" in capsys.readouterr().out
    _tamper("UPDATE core_auditevent SET actor = %s WHERE id = %s", ["mallory", events[2].pk])
    with pytest.raises(SystemExit) as exited:
        call_command("audit_verify")
    assert exited.value.code == 1
    assert f"#{events[2].pk}" in capsys.readouterr().err
