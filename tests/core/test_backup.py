"""The backup drill (issue 13 item 8): back up while residents book, wipe, restore, and find
the same rows and the same audit head, with `audit-verify` intact — on SQLite (online backup
API) and, in `make test`'s PostgreSQL pass, with pg_dump/pg_restore.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from madoguchi.core import backup
from madoguchi.core.audit import Actor, read_checkpoints, verify_audit_chain
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.reservations.models import Reservation
from madoguchi.reservations.services import book_reservation
from tests.frozen_clock import frozen_at
from tests.offices import factories as offices
from tests.reservations import factories
from tests.reservations.factories import NOW, renewal

pytestmark = pytest.mark.django_db(transaction=True)


def _slots() -> list[Any]:
    city = offices.municipality()
    procedure = offices.procedure("cert_renewal", proxy_allowed=True)
    site = offices.site(city, counters=2, terminals=2)
    site.procedures.set([procedure])
    return [
        factories.slot(site, procedure, time=f"{hour}:00", capacity=500) for hour in (10, 11, 13)
    ]


def _person(n: int) -> Any:
    return renewal(given=chr(0x30A1 + n % 80) + chr(0x30A1 + n // 80), email=f"p{n}@example.jp")


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _wipe() -> None:
    """The database is gone (a lost disk, a dropped schema)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        connections.close_all()
    else:
        name = str(connection.settings_dict["NAME"])
        connections.close_all()
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
    with connection.cursor() as cursor, pytest.raises(DatabaseError):  # nothing left to count
        cursor.execute("SELECT count(*) FROM reservations_reservation")


def test_drill_backup_while_booking_wipe_restore_same_fingerprint_and_intact_log(
    tmp_path: Path, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "madoguchi.backup"
    workers, errors = 3, []
    stop = threading.Event()
    with frozen_at(NOW):
        slots = _slots()

        def book(worker: int) -> None:
            n = worker
            try:
                while not stop.is_set():
                    book_reservation(
                        slot_id=slots[n % len(slots)].pk,
                        procedure_code="cert_renewal",
                        applicant=_person(n),
                        actor=Actor.resident(),
                    )
                    n += workers
            except (DomainError, DatabaseError) as error:
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=book, args=(w,)) for w in range(workers)]
        for thread in threads:
            thread.start()
        try:
            _wait_for(lambda: Reservation.objects.count() >= 10, "the first bookings")
            call_command("backup", str(file))  # while the threads go on booking
            backed_up = backup.read_manifest(file)["fingerprint"]
            _wait_for(
                lambda: (
                    Reservation.objects.count()
                    >= backed_up["tables"]["reservations_reservation"] + 10
                ),
                "bookings after the backup",
            )
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
    assert not errors
    assert "監査ログの鍵とチェックポイントのファイルは別に保管" in capsys.readouterr().out
    assert oct(file.stat().st_mode & 0o777) == "0o600"
    assert oct(backup.manifest_path(file).stat().st_mode & 0o777) == "0o600"

    live = backup.fingerprint()
    booked_then = backed_up["tables"]["reservations_reservation"]
    assert 10 <= booked_then < live["tables"]["reservations_reservation"]
    assert backed_up["audit_head"]["seq"] < live["audit_head"]["seq"]
    # every reservation in the copy has its audit event (the copy is one consistent moment)
    assert backed_up["tables"]["core_auditevent"] == booked_then
    assert verify_audit_chain().intact

    _wipe()
    call_command("restore", str(file), yes=True)
    assert "目録と一致" in capsys.readouterr().out

    assert backup.fingerprint() == backed_up
    assert Reservation.objects.count() == booked_then
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "監査ログは正常です" in out
    assert "のリストア（madoguchi.backup）で" in out  # the bookings after the backup: named
    checkpoints, bad = read_checkpoints(
        Path(settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE).read_text().splitlines()
    )
    assert not bad
    assert checkpoints[-1].kind == "restore"
    assert checkpoints[-1].seq == backed_up["audit_head"]["seq"]
    # the restored audit table is still append-only, and the application goes on
    event_id = AuditEvent.objects.order_by("id").values_list("id", flat=True).first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event_id])
    with frozen_at(NOW):
        book_reservation(
            slot_id=slots[0].pk,
            procedure_code="cert_renewal",
            applicant=_person(5000),
            actor=Actor.resident(),
        )
    assert verify_audit_chain().intact


def test_a_restore_that_does_not_match_its_manifest_is_refused(tmp_path: Path) -> None:
    _slots()
    file = tmp_path / "copy.backup"
    call_command("backup", str(file))
    manifest = backup.manifest_path(file)
    text = manifest.read_text().replace('"offices_site": 1', '"offices_site": 2')
    manifest.write_text(text)
    with pytest.raises(CommandError, match="offices_site"):
        call_command("restore", str(file), yes=True)


def test_restore_asks_for_consent_and_a_manifest(tmp_path: Path) -> None:
    file = tmp_path / "copy.backup"
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(file))
    file.write_bytes(b"not a backup")
    with pytest.raises(CommandError, match="manifest"):
        call_command("restore", str(file), yes=True)
    assert os.path.exists(connection.settings_dict["NAME"]) or connection.vendor == "postgresql"
