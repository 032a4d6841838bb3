"""The four forgeries of issue 13, each detected and named by `audit-verify` (exit 1).

The intruder works on the database with SQL, behind the application's back: for (a)–(c) with
the table owner's rights (triggers lifted), for (d) with nothing but INSERT, which the
application's own role has. They do not have the key (`MADOGUCHI_AUDIT_KEY`), except in the
one test that says so. Every test runs on SQLite and, in `make test`'s second pass, on
PostgreSQL; the control shows an untouched chain verifies clean.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from madoguchi.core import audit
from madoguchi.core.audit import (
    Actor,
    PendingEvent,
    record_audit_events,
    seal_audit_events,
    verify_audit_chain,
)
from madoguchi.core.models import AuditEvent

pytestmark = pytest.mark.django_db

WRONG_KEY = "an-intruders-own-key-of-more-than-32-characters"
EVENTS = 12


def _chain() -> list[AuditEvent]:
    """12 events sealed in three passes (three checkpoints), read back in chain order."""
    for n in range(3):
        record_audit_events(
            actor=Actor.system("test"),
            events=[
                PendingEvent("card.inspect", "issuance.CardRecord", 4 * n + i, after={"名": i})
                for i in range(4)
            ],
        )
        assert seal_audit_events() == 4
    return list(AuditEvent.objects.order_by("seq"))


def _lift_triggers() -> None:
    """What only the table's owner can do (rolled back with the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
            cursor.execute("DROP TRIGGER core_auditevent_no_delete")


def _verify_fails(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        call_command("audit_verify")
    assert exited.value.code == 1
    return capsys.readouterr().err


def _unkeyed_link(row: dict[str, Any], previous: str) -> str:
    """How the chain was linked before the key (decision 0004): what anyone can compute."""
    return audit._legacy_digest(
        row["at"],
        row["actor"],
        row["action"],
        row["subject_type"],
        row["subject_id"],
        row["before"],
        row["after"],
        previous,
    )


def _keyed(row: dict[str, Any], seq: int, previous: str) -> tuple[str, str]:
    """(row seal, chain link) as the holder of the current settings' key computes them."""
    content = (
        row["at"],
        row["actor"],
        row["action"],
        row["subject_type"],
        row["subject_id"],
        row["before"],
        row["after"],
    )
    mac = audit._new_row_mac(*content)
    return mac, audit._link(seq, previous, *content, mac)


def _forged_row(**changes: Any) -> dict[str, Any]:
    row = {
        "at": dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC),
        "actor": "staff:1:admin",
        "action": "card.hand_over",
        "subject_type": "issuance.CardRecord",
        "subject_id": "77",
        "before": {"status": "booked"},
        "after": {"status": "handed_over"},
        "previous_hash": "",
        "hash": "",
        "mac": "",
    }
    return {**row, **changes}


def test_control_an_untouched_chain_verifies_clean(capsys: pytest.CaptureFixture[str]) -> None:
    _chain()
    report = verify_audit_chain()
    assert report.intact, report.findings
    assert (report.checked, report.checkpoints, report.pending) == (EVENTS, 3, 0)
    call_command("audit_verify")
    assert (
        "監査ログは正常です（12 件を確認、チェックポイント 3 件と一致）" in capsys.readouterr().out
    )


@pytest.mark.parametrize("removed", [1, 10])
def test_a_deleted_tail_is_named(removed: int, capsys: pytest.CaptureFixture[str]) -> None:
    events = _chain()
    _lift_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE seq > %s", [EVENTS - removed])
    report = verify_audit_chain()
    assert report.kinds == ["tail-deleted"]
    assert report.checked == EVENTS - removed  # what is left is sound
    err = _verify_fails(capsys)
    assert "[tail-deleted] 末尾の記録の削除" in err
    assert f"順番 {EVENTS - removed} で終わっています（末尾の {removed} 件が消されています）" in err
    assert len(events) == EVENTS


def test_a_second_forgery_after_a_first_is_named_too(capsys: pytest.CaptureFixture[str]) -> None:
    """A rewritten event, then further on a deleted one: both are named (the walk stopped at
    the first, so the second stayed hidden behind a damage nobody can repair)."""
    events = _chain()
    _lift_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET actor = %s WHERE id = %s", ["staff:99:x", events[3].pk]
        )
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [events[8].pk])
    report = verify_audit_chain()
    assert report.kinds == ["rewritten", "link-broken"]
    assert [f.event_id for f in report.findings] == [events[3].pk, events[9].pk]
    assert report.checked == 3  # sound before the first
    err = _verify_fails(capsys)
    assert f"記録 #{events[3].pk}（順番 4" in err and f"記録 #{events[9].pk}（順番 10）" in err


@pytest.mark.parametrize("hashing", ["unkeyed", "wrong key"])
def test_an_appended_forged_event_is_named(
    hashing: str, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _chain()
    head = events[-1].hash
    row = _forged_row(previous_hash=head)
    if hashing == "unkeyed":
        row["hash"] = _unkeyed_link(row, head)
    else:
        real_key = settings.MADOGUCHI_AUDIT_KEY
        settings.MADOGUCHI_AUDIT_KEY = WRONG_KEY
        row["mac"], row["hash"] = _keyed(row, EVENTS + 1, head)
        settings.MADOGUCHI_AUDIT_KEY = real_key
    (forged,) = _insert([{**row, "seq": EVENTS + 1}])  # no trigger stops it

    report = verify_audit_chain()
    assert report.kinds == ["forged"]
    assert report.first_bad_id == forged
    assert report.checked == EVENTS
    err = _verify_fails(capsys)
    assert (
        f"[forged] 偽造された記録の追加: 記録 #{forged}（順番 13、チェックポイントより後）" in err
    )
    # the sealer does not extend a chain whose head it cannot vouch for
    record_audit_events(actor=Actor.system("t"), events=[PendingEvent("later", "x", 1)])
    assert seal_audit_events() == 0
    assert verify_audit_chain().pending == 1


@pytest.mark.parametrize("hashing", ["unkeyed", "wrong key"])
def test_a_rewritten_middle_event_with_the_chain_recomputed_is_named(
    hashing: str, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _chain()
    victim = events[4]
    _lift_triggers()
    rows = list(AuditEvent.objects.order_by("seq").values())
    rows[4]["actor"] = "staff:9:mallory"
    real_key = settings.MADOGUCHI_AUDIT_KEY
    settings.MADOGUCHI_AUDIT_KEY = WRONG_KEY
    previous = rows[3]["hash"]
    with connection.cursor() as cursor:
        for row in rows[4:]:
            if hashing == "unkeyed":
                digest = _unkeyed_link(row, previous)
                mac = row["mac"]
            else:
                mac, digest = _keyed(row, row["seq"], previous)
            cursor.execute(
                "UPDATE core_auditevent SET actor = %s, previous_hash = %s, hash = %s, mac = %s"
                " WHERE id = %s",
                [row["actor"], previous, digest, mac, row["id"]],
            )
            previous = digest
    settings.MADOGUCHI_AUDIT_KEY = real_key

    report = verify_audit_chain()
    assert report.kinds == ["rewritten", "checkpoint-mismatch"]
    assert report.first_bad_id == victim.pk
    assert report.checked == 4
    err = _verify_fails(capsys)
    assert f"[rewritten] 記録の書き換え: 記録 #{victim.pk}（順番 5、チェックポイントより前）" in err
    assert "[checkpoint-mismatch]" in err


def test_a_rewrite_by_someone_holding_the_key_still_fails_the_checkpoints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The checkpoint file is append-only and outside the database: even a valid re-keyed
    chain no longer holds the heads it had."""
    events = _chain()
    _lift_triggers()
    rows = list(AuditEvent.objects.order_by("seq").values())
    rows[4]["actor"] = "staff:9:mallory"
    previous = rows[3]["hash"]
    with connection.cursor() as cursor:
        for row in rows[4:]:
            mac, digest = _keyed(row, row["seq"], previous)
            cursor.execute(
                "UPDATE core_auditevent SET actor = %s, previous_hash = %s, hash = %s, mac = %s"
                " WHERE id = %s",
                [row["actor"], previous, digest, mac, row["id"]],
            )
            previous = digest
    report = verify_audit_chain()
    assert report.kinds == ["checkpoint-mismatch"]
    assert "[checkpoint-mismatch] チェックポイントとの不一致" in _verify_fails(capsys)
    assert len(events) == EVENTS


@pytest.mark.parametrize("seal", ["none", "wrong key", "copied from a real event"])
def test_a_forged_unsealed_row_is_not_sealed_and_is_named(
    seal: str, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _chain()
    row = _forged_row()
    if seal == "wrong key":
        real_key = settings.MADOGUCHI_AUDIT_KEY
        settings.MADOGUCHI_AUDIT_KEY = WRONG_KEY
        row["mac"], _ = _keyed(row, 0, "")
        settings.MADOGUCHI_AUDIT_KEY = real_key
    elif seal == "copied from a real event":
        row["mac"] = events[0].mac
    (forged,) = _insert([row])  # what the application's role may do
    record_audit_events(actor=Actor.system("t"), events=[PendingEvent("real", "x", 1)])

    call_command("audit_seal")  # the real event is linked, the forged one refused
    assert "1 件" in capsys.readouterr().out
    assert AuditEvent.objects.get(pk=forged).seq == -forged
    assert AuditEvent.objects.get(action="real").seq == EVENTS + 1

    report = verify_audit_chain()
    assert report.kinds == ["unvouched"]
    assert report.first_bad_id == forged
    assert report.checked == EVENTS + 1
    err = _verify_fails(capsys)
    assert f"[unvouched] 署名のない未封印の記録（偽造）: 記録 #{forged}" in err
    assert "封印を拒否されました" in err


def test_a_forged_unsealed_row_is_named_before_any_sealer_ran(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _chain()
    (forged,) = _insert([_forged_row()])
    report = verify_audit_chain()
    assert report.kinds == ["unvouched"]
    assert "封印されていません" in _verify_fails(capsys)
    assert report.first_bad_id == forged


def test_a_real_event_kept_out_of_the_chain_is_named() -> None:
    """The application's role may write the seal columns once: using that to park a real event
    outside the chain (as the sealer does with forged ones) is seen too."""
    _chain()
    (event,) = record_audit_events(actor=Actor.system("t"), events=[PendingEvent("hide", "x", 1)])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET seq = %s, hash = %s WHERE id = %s",
            [-event.pk, audit.REJECTED, event.pk],
        )
    assert verify_audit_chain().kinds == ["withheld"]


def test_a_checkpoint_line_written_without_the_key_is_named(settings: Any) -> None:
    events = _chain()
    real_key = settings.MADOGUCHI_AUDIT_KEY
    settings.MADOGUCHI_AUDIT_KEY = WRONG_KEY
    line = audit.checkpoint_line("seal", 3, events[2].hash)
    settings.MADOGUCHI_AUDIT_KEY = real_key
    with open(settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE, "a", encoding="utf-8") as file:
        file.write(line + "\n")
    report = verify_audit_chain()
    assert report.kinds == ["checkpoint-forged"]
    assert "4 行目" in report.findings[0].message


def test_a_garbled_checkpoint_line_is_named(settings: Any) -> None:
    _chain()
    with open(settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE, "a", encoding="utf-8") as file:
        file.write('{"kind": "seal", "seq": 12, "head": "\n')
    assert verify_audit_chain().kinds == ["checkpoint-forged"]


def test_a_missing_checkpoint_file_is_named(settings: Any) -> None:
    _chain()
    settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE.unlink()
    assert verify_audit_chain().kinds == ["no-checkpoint"]


def test_the_server_log_serves_as_the_checkpoint_file(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Every checkpoint also goes to the log; `audit-verify --checkpoints LOG` reads it."""
    with caplog.at_level("INFO", logger="madoguchi.audit.checkpoint"):
        _chain()
    log = tmp_path / "server.log"
    noise = 'WARNING django.request Not Found: /x {"kind": "seal", "seq": 99}'
    lines = [noise, *(f"2026-12-06 INFO {r.getMessage()}" for r in caplog.records)]
    log.write_text("\n".join(lines))
    report = verify_audit_chain(checkpoint_file=log)
    assert report.intact and report.checkpoints == 3
    _lift_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE seq = %s", [EVENTS])
    assert verify_audit_chain(checkpoint_file=log).kinds == ["tail-deleted"]


def test_verification_needs_the_key(settings: Any) -> None:
    """With another key an untouched log proves nothing: its first event is not the key's."""
    events = _chain()
    settings.MADOGUCHI_AUDIT_KEY = WRONG_KEY
    report = verify_audit_chain()
    assert report.kinds == ["checkpoint-forged"] * 3 + ["forged", "no-checkpoint"]
    assert report.findings[3].event_id == events[0].pk


def _insert(rows: list[dict[str, Any]]) -> list[int]:
    """Rows written as they are (no seal computed), as anyone with the table's INSERT right can."""
    return [event.pk for event in AuditEvent.objects.bulk_create([AuditEvent(**r) for r in rows])]
