"""The audit log is append-only and hash-chained; `audit-verify` names the first bad entry.

Events are appended unsealed and linked into the chain by the sealer (decision 0008).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from madoguchi.core import audit
from madoguchi.core.audit import (
    Actor,
    PendingEvent,
    record_audit_event,
    record_audit_events,
    seal_audit_events,
    verify_audit_chain,
)
from madoguchi.core.models import AppendOnlyError, AuditEvent

pytestmark = pytest.mark.django_db


def _three_events() -> list[AuditEvent]:
    """Three events, sealed, as read back from the database."""
    events = [
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
    assert seal_audit_events() == 3
    return [AuditEvent.objects.get(pk=e.pk) for e in events]


def _tamper(sql: str, params: list[object]) -> None:
    """Change a row behind the application's back, as an intruder with the table owner's rights
    would (rolled back with the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
            cursor.execute("DROP TRIGGER core_auditevent_no_delete")
        cursor.execute(sql, params)


def test_each_event_links_to_the_previous_one() -> None:
    first, second, third = _three_events()
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.previous_hash == "0" * 64
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert verify_audit_chain().intact


def test_events_are_appended_unsealed_and_the_sealer_links_them_once() -> None:
    events = record_audit_events(
        actor=Actor.system("test"),
        events=[PendingEvent("a", "x", 1), PendingEvent("b", "x", 2, after={"k": "値"})],
    )
    assert all(AuditEvent.objects.get(pk=e.pk).seq is None for e in events)
    report = verify_audit_chain()
    assert (report.intact, report.checked, report.pending) == (True, 0, 2)
    assert seal_audit_events() == 2
    assert seal_audit_events() == 0  # nothing left: sealing twice changes nothing
    report = verify_audit_chain()
    assert (report.intact, report.checked, report.pending) == (True, 2, 0)
    more = record_audit_event(
        actor=Actor.system("test"), action="c", subject_type="x", subject_id=3
    )
    seal_audit_events()
    last = AuditEvent.objects.get(pk=more.pk)
    assert last.seq == 3
    assert last.previous_hash == AuditEvent.objects.get(pk=events[1].pk).hash


def test_sealing_in_several_passes_keeps_one_chain_in_event_order() -> None:
    events = record_audit_events(
        actor=Actor.system("test"),
        events=[PendingEvent("a", "x", n, after={"n": n, "名": "値"}) for n in range(5)],
    )
    assert seal_audit_events(batch=2) == 5  # passes of 2, 2 and 1
    sealed = [AuditEvent.objects.get(pk=e.pk) for e in events]
    assert [e.seq for e in sealed] == [1, 2, 3, 4, 5]
    assert all(b.previous_hash == a.hash for a, b in pairwise(sealed))
    assert verify_audit_chain().intact


def test_the_database_lets_sealing_through_once_and_nothing_else() -> None:
    unsealed = record_audit_event(
        actor=Actor.system("test"), action="probe", subject_type="x", subject_id=1
    )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        # sealing that also edits the content
        cursor.execute(
            "UPDATE core_auditevent SET seq = 99, hash = 'h', actor = 'mallory' WHERE id = %s",
            [unsealed.pk],
        )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET actor = 'mallory' WHERE id = %s", [unsealed.pk])
    seal_audit_events()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        # re-sealing a sealed event (to rewrite history) is refused
        cursor.execute(
            "UPDATE core_auditevent SET seq = 7, hash = 'h' WHERE id = %s", [unsealed.pk]
        )
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


def test_a_forged_seal_on_a_pending_event_breaks_the_chain() -> None:
    events = _three_events()
    forged = record_audit_event(actor=Actor.system("x"), action="d", subject_type="x", subject_id=9)
    with connection.cursor() as cursor:  # allowed by the trigger, but with a made-up hash
        cursor.execute(
            "UPDATE core_auditevent SET seq = 4, previous_hash = %s, hash = %s WHERE id = %s",
            [events[2].hash, "f" * 64, forged.pk],
        )
    report = verify_audit_chain()
    assert report.first_bad_id == forged.pk


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


def test_audit_verify_reports_events_waiting_for_the_sealer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _three_events()
    record_audit_event(actor=Actor.system("t"), action="e", subject_type="x", subject_id=4)
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "3 件" in out and "封印待ち 1 件" in out
    call_command("audit_seal")
    assert "1 件" in capsys.readouterr().out
    assert verify_audit_chain().pending == 0


@pytest.mark.django_db(transaction=True)
def test_after_commit_events_are_sealed_by_the_background_timer(settings: Any) -> None:
    settings.MADOGUCHI_AUDIT_SEAL_MS = 50
    with transaction.atomic():
        event = record_audit_event(
            actor=Actor.system("t"), action="timer", subject_type="x", subject_id=1
        )
    try:
        # The sealer's own timer is what is tested, so the test polls; the deadline is only a
        # safety net for a sealer that never runs (a loaded machine may take seconds).
        deadline = time.monotonic() + 120
        while AuditEvent.objects.get(pk=event.pk).seq is None:
            assert time.monotonic() < deadline, "the background sealer never sealed the event"
            time.sleep(0.02)
    finally:
        audit._sealer.stop()  # its connection must not outlive the test database
    assert verify_audit_chain().intact


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_and_sealers_make_one_chain_with_every_event() -> None:
    """Writers commit in any order while sealers run: no event is lost, the chain never forks."""
    writers, per_writer = 6, 15
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(per_writer):
                with transaction.atomic():
                    record_audit_events(
                        actor=Actor.system(f"w{n}"),
                        events=[PendingEvent("a", "x", i), PendingEvent("b", "x", i)],
                    )
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seal_audit_events()
    report = verify_audit_chain()
    assert report.intact
    assert (report.checked, report.pending) == (writers * per_writer * 2, 0)
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.django_db(transaction=True)
def test_a_command_that_ends_right_after_writing_leaves_nothing_unsealed(settings: Any) -> None:
    """Management commands exit within the sealing interval; the exit hook seals — at once: the
    rest of the interval (a minute here) is not sat out first, which the run's bound (a
    safety net, never reached by a command that does not wait) would cut short."""
    import os
    import subprocess
    import sys

    db = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    else:
        url = f"sqlite:///{db['NAME']}"
    code = (
        "import django; django.setup()\n"
        "from django.db import transaction\n"
        "from madoguchi.core.audit import Actor, record_audit_event\n"
        "with transaction.atomic():\n"
        "    record_audit_event(actor=Actor.system('cmd'), action='exit', subject_type='x',"
        " subject_id=1)\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MADOGUCHI_AUDIT_SEAL_MS": "60000",  # the longest allowed, as long as the bound
        "MADOGUCHI_AUDIT_CHECKPOINT_FILE": str(settings.MADOGUCHI_AUDIT_CHECKPOINT_FILE),
        "DJANGO_SETTINGS_MODULE": "madoguchi.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, timeout=60, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    event = AuditEvent.objects.get(action="exit")
    assert event.seq is not None
    assert verify_audit_chain().intact


def test_the_database_refuses_deleting_events_on_every_backend() -> None:
    event = _three_events()[1]
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    unsealed = record_audit_event(
        actor=Actor.system("t"), action="u", subject_type="x", subject_id=1
    )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [unsealed.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE core_auditevent")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET mac = '' WHERE id = %s", [unsealed.pk])
    assert AuditEvent.objects.count() == 4


def _legacy_chain(count: int) -> list[int]:
    """Events as decision 0004 chained them (unkeyed SHA-256, no row seal)."""
    ids = _insert(
        [
            {
                "at": dt.datetime(2026, 11, 1, 9, n, tzinfo=dt.UTC),
                "actor": "system:old",
                "action": "card.inspected",
                "subject_type": "issuance.CardRecord",
                "subject_id": str(n),
                "before": None,
                "after": {"n": n, "名": "値"},
                "previous_hash": "",
                "hash": "",
            }
            for n in range(count)
        ],
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
        previous = audit.GENESIS_HASH
        for seq, pk in enumerate(ids[:-1], start=1):  # the last one waits for the sealer
            e = AuditEvent.objects.get(pk=pk)
            digest = audit._legacy_digest(
                e.at, e.actor, e.action, e.subject_type, e.subject_id, e.before, e.after, previous
            )
            cursor.execute(
                "UPDATE core_auditevent SET seq = %s, previous_hash = %s, hash = %s WHERE id = %s",
                [seq, previous, digest, pk],
            )
            previous = digest
    return ids


def test_migration_seals_an_intact_unkeyed_chain_with_the_key() -> None:
    ids = _legacy_chain(5)
    assert audit.rekey_legacy_chain(connection) == 5
    assert [e.seq for e in AuditEvent.objects.order_by("id")] == [1, 2, 3, 4, 5]
    report = verify_audit_chain()
    assert report.intact, report.findings
    assert (report.checked, report.checkpoints) == (5, 1)
    assert len(ids) == 5


def test_migration_refuses_to_key_a_broken_unkeyed_chain() -> None:
    ids = _legacy_chain(4)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET actor = 'mallory' WHERE id = %s", [ids[1]])
    with pytest.raises(RuntimeError, match=f"#{ids[1]} breaks the unkeyed chain"):
        audit.rekey_legacy_chain(connection)


def _insert(rows: list[dict[str, Any]]) -> list[int]:
    """Rows written as they are (no seal computed), as anyone with the table's INSERT right can."""
    return [event.pk for event in AuditEvent.objects.bulk_create([AuditEvent(**r) for r in rows])]


def _long_writer() -> Any:
    """Another connection in the middle of a long write, as a register import is: on SQLite it
    holds the one write lock; on PostgreSQL it holds the register table exclusively."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        import sqlite3

        writer = sqlite3.connect(db["NAME"], isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        return writer
    import psycopg

    server = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
    )
    server.execute("LOCK TABLE forecasts_registerrecord IN EXCLUSIVE MODE")
    return server


GIVES_UP_SECONDS = 120
WAITS_LONGER_THAN_THE_TEST_MS = 600_000


@pytest.mark.django_db(transaction=True)
def test_a_sealer_that_must_not_wait_is_never_held_up_by_a_long_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A register import writes for tens of seconds — on SQLite holding the one write lock longer
    than the connection's busy timeout. The background sealer (`wait=False`) used to wait that
    long there and fail with "database is locked"; it now answers None at once on SQLite (look
    again next interval) and seals once the writer is done. On PostgreSQL the write holds no lock
    the sealer needs: it seals at once. Without the fix the SQLite call raises after the busy
    timeout. The writer holds on until the sealer has answered (or the test gives up on it), and
    the sealer's connection waits ten minutes for a busy lock: a sealer that waits for the writer
    is still waiting when the test gives up — no bound on how fast a loaded machine answers."""
    monkeypatch.setattr(audit, "seal_after_commit", lambda: None)  # left for the sealer
    monkeypatch.setattr(audit, "SQLITE_TRY_MS", 1)  # the try's length is not what is tested
    event = record_audit_event(
        actor=Actor.system("t"), action="long", subject_type="x", subject_id=1
    )
    writer = _long_writer()
    answers: list[int | None] = []
    failures: list[BaseException] = []

    def seal_in_background() -> None:
        try:
            if connection.vendor == "sqlite":  # a wait for the lock would outlast the test
                with connections["default"].cursor() as cursor:
                    cursor.execute(f"PRAGMA busy_timeout = {WAITS_LONGER_THAN_THE_TEST_MS}")
            answers.append(seal_audit_events(wait=False))
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connections.close_all()

    try:
        thread = threading.Thread(target=seal_in_background)
        thread.start()
        thread.join(timeout=GIVES_UP_SECONDS)
        answered_while_the_writer_held_on = not thread.is_alive()
    finally:
        writer.rollback() if connection.vendor != "sqlite" else writer.execute("ROLLBACK")
        writer.close()
        thread.join()
    assert answered_while_the_writer_held_on
    assert not failures, failures
    if connection.vendor == "sqlite":
        assert answers == [None]
        assert AuditEvent.objects.get(pk=event.pk).seq is None
        # the writer is done: the next pass seals, and the connection waits as long as before
        assert seal_audit_events(wait=False) == 1
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] == 20_000
    else:
        assert answers == [1]
    assert AuditEvent.objects.get(pk=event.pk).seq is not None
    assert verify_audit_chain().intact


def _chain_holder() -> Any:
    """Another process's sealer in the middle of a pass: on PostgreSQL it holds the chain's
    advisory lock; on SQLite it holds the one write lock."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return _long_writer()
    import psycopg

    holder = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
        dbname=db["NAME"], autocommit=True,
    )  # fmt: skip
    holder.execute("SELECT pg_advisory_lock(%s)", [audit._CHAIN_LOCK_KEY])
    return holder


def _release(holder: Any) -> None:
    if connection.vendor == "sqlite":
        holder.execute("ROLLBACK")
    else:
        holder.execute("SELECT pg_advisory_unlock(%s)", [audit._CHAIN_LOCK_KEY])
    holder.close()


def _seen_waiting(thread: threading.Thread, begun: threading.Event, busy_ms: list[int]) -> bool:
    """Whether the sealer's pass on `thread` waits for the chain's holder. On PostgreSQL its
    backend is seen waiting for the chain's advisory lock (looked for until it is, or the pass
    ended, or the safety net's bound) — however slowly a loaded machine starts the thread, a
    pass that does not wait is never taken for one that does. On SQLite, which shows no waiter,
    the pass has sent its BEGIN (`begun`, set by `_watch_begin` as it sends it) with the
    connection's own busy timeout, not the short try of a sealer that must not wait, and is
    still blocked."""
    if connection.vendor != "postgresql":
        begun.wait(timeout=GIVES_UP_SECONDS)  # a safety net: set once the pass sends BEGIN
        return begun.is_set() and busy_ms[-1] > audit.SQLITE_TRY_MS and thread.is_alive()
    for _ in range(GIVES_UP_SECONDS * 50):  # looks at least every 20 ms
        if not thread.is_alive():
            break
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND objid = %s",
                [audit._CHAIN_LOCK_KEY & 0xFFFFFFFF],
            )
            if cursor.fetchone()[0]:
                return thread.is_alive()
        thread.join(timeout=0.02)  # ends early if the pass ended without waiting
    return False


def _watch_begin(begun: threading.Event, busy_ms: list[int]) -> Any:
    """An execute wrapper for the sealer's connection (SQLite): as a transaction begins it notes
    the connection's busy timeout — how long that BEGIN will wait for a write lock held
    elsewhere — then sets `begun` and sends the BEGIN."""

    def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith("BEGIN"):
            raw = context["connection"].connection
            busy_ms.append(int(raw.execute("PRAGMA busy_timeout").fetchone()[0]))
            begun.set()
        return execute(sql, params, many, context)

    return watch


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stopping", [False, True], ids=["running", "stopping"])
def test_the_background_sealer_does_not_wait_for_another_processs_pass(
    monkeypatch: pytest.MonkeyPatch, stopping: bool
) -> None:
    """Every process's sealer wakes after each interval of a rush. While running, one that
    finds another at work returns at once (None: it looks again next interval) instead of
    waiting for that pass and then reading the chain's head and an almost empty batch — a
    second pass per interval for nothing. Stopping, it waits (the control): what is pending is
    sealed before the process ends."""
    monkeypatch.setattr(audit, "seal_after_commit", lambda: None)  # left for the sealer
    monkeypatch.setattr(audit, "SQLITE_TRY_MS", 1)  # the try's length is not what is tested
    event = record_audit_event(actor=Actor.system("t"), action="e", subject_type="x", subject_id=1)
    sealer = audit._BackgroundSealer()
    sealer._stopping = stopping
    answers: list[int | None] = []

    begun = threading.Event()
    busy_ms: list[int] = []

    def one_pass() -> None:
        try:
            with connection.execute_wrapper(_watch_begin(begun, busy_ms)):
                answers.append(sealer.seal_once())
        finally:
            connections.close_all()

    holder = _chain_holder()
    thread = threading.Thread(target=one_pass)
    try:
        thread.start()
        # running, one that answers at all answered without waiting (a waiting one would wait
        # for the holder forever on PostgreSQL, or fail after the busy timeout on SQLite);
        # stopping, see `_seen_waiting`
        if stopping:
            waited = _seen_waiting(thread, begun, busy_ms)
        else:
            thread.join(timeout=GIVES_UP_SECONDS)
            waited = thread.is_alive()
    finally:
        _release(holder)
        thread.join(timeout=30)
    if stopping:
        assert waited and answers == [1]  # it waited for the other pass, then sealed
    else:
        assert not waited and answers == [None]
        assert AuditEvent.objects.get(pk=event.pk).seq is None
        assert sealer.seal_once() == 1  # the next interval, the lock free
    assert AuditEvent.objects.get(pk=event.pk).seq is not None
    assert verify_audit_chain().pending == 0


@pytest.mark.django_db(transaction=True)
def test_a_sealer_stopped_before_its_first_round_still_seals_what_is_pending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command can end before its sealer's thread has begun its loop: `stop` then comes first,
    and the thread's one round must be the waiting pass that seals everything (its loop used to
    end without a pass). The thread starts only after `stop` set what it sets."""
    monkeypatch.setattr(audit, "seal_after_commit", lambda: None)  # left for the sealer
    event = record_audit_event(actor=Actor.system("t"), action="e", subject_type="x", subject_id=1)
    sealer = audit._BackgroundSealer()
    sealer._stopping = True
    sealer._halt.set()
    sealer._wake.set()
    thread = threading.Thread(target=sealer._run)
    thread.start()
    thread.join(timeout=GIVES_UP_SECONDS)  # a safety net: the loop ends after its one pass
    assert not thread.is_alive(), "the stopped sealer's loop did not end"
    assert AuditEvent.objects.get(pk=event.pk).seq is not None
    assert verify_audit_chain().pending == 0
