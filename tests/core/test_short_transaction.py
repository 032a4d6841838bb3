"""`ShortTransaction`: BEGIN with the first statement and COMMIT with the last (one or two round
trips on PostgreSQL), everything rolled back otherwise, nothing else allowed inside; and the
guarded `WriteBatch` that lets it commit without looking first — with locking reads, deciding
in the same statement."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from madoguchi.core.sql import WriteBatch, short_transaction
from madoguchi.reservations.claims import CLAIM_SEATS_SQL
from madoguchi.reservations.models import Reservation, Slot
from tests.core.test_sql import _reservation_values
from tests.core.test_sql import make_slot as _slot


def _claiming_batch(
    slot: Slot, rows: list[dict[str, Any]], calls: list[str] | None = None
) -> WriteBatch:
    """Reservations, an update of the slot's site's other slot (never the same row twice in a
    batch) and the seat claim as guard."""
    batch = WriteBatch()
    batch.insert(Reservation, rows)
    batch.update(Slot, _other(slot).pk, {"conflict_reason": "書いた"})
    seats = len(rows)
    batch.guard(CLAIM_SEATS_SQL, [seats, slot.pk, seats], returning="id")
    if calls is not None:
        batch.after_commit(lambda: calls.append("committed"))
    return batch


def _other(slot: Slot) -> Slot:
    other = Slot.objects.filter(site=slot.site).exclude(pk=slot.pk).first()
    if other is None:
        other = Slot.objects.create(
            site=slot.site,
            procedure=slot.procedure,
            starts_at=slot.ends_at,
            ends_at=slot.ends_at + dt.timedelta(minutes=20),
            capacity=1,
        )
    return other


def _rows(slot: Slot, *codes: str) -> list[dict[str, Any]]:
    """Reservation rows, built before a short transaction (building them reads)."""
    _other(slot)
    return [_reservation_values(slot, code) for code in codes]


def _status() -> Any:
    return connection.connection.info.transaction_status


@pytest.mark.django_db
@pytest.mark.parametrize("free", [True, False])
def test_a_guarded_batch_writes_everything_or_nothing(free: bool) -> None:
    """Both backends (inside a test's atomic block the transaction is an ordinary one)."""
    slot = _slot(capacity=3, booked=1 if free else 2)
    batch = _claiming_batch(slot, _rows(slot, "G1AA", "G1BB"))
    with short_transaction() as tx:
        assert not tx.compact
        results = tx.commit(batch)
    inserted, claim = results[0], results[2]
    slot.refresh_from_db()
    if free:
        assert claim == [slot.pk]
        assert [Reservation.objects.get(pk=pk).code for pk in inserted] == ["G1AA", "G1BB"]
        assert (slot.booked, _other(slot).conflict_reason) == (3, "書いた")
    else:
        assert claim == [] and inserted == []
        assert not Reservation.objects.exists()
        assert (slot.booked, _other(slot).conflict_reason) == (2, "")


@pytest.mark.postgres  # the guarded statement is PostgreSQL's form
@pytest.mark.django_db
def test_a_guarded_batch_refuses_hand_written_writes_besides_its_guard() -> None:
    slot = _slot()
    batch = _claiming_batch(slot, _rows(slot, "G2AA"))
    batch.execute("UPDATE reservations_slot SET booked = 0 WHERE id = %s OR true", [slot.pk])
    with pytest.raises(ValueError, match="insert"), transaction.atomic():
        batch.run()
    with pytest.raises(ValueError, match="at most one guard"):
        batch.guard(CLAIM_SEATS_SQL, [1, slot.pk, 1], returning="id")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_round_trips_begin_with_the_first_and_commit_with_the_last() -> None:
    import psycopg

    slot = _slot()
    calls: list[str] = []
    batch = _claiming_batch(slot, _rows(slot, "T2AA"), calls)
    with CaptureQueriesContext(connection) as queries, short_transaction() as tx:
        assert tx.compact
        (locked,) = tx.select_rows(Slot, "id = %s", [slot.pk], lock=True)
        assert locked.pk == slot.pk
        assert _status() == psycopg.pq.TransactionStatus.INTRANS
        assert calls == []
        results = tx.commit(batch)
        assert _status() == psycopg.pq.TransactionStatus.IDLE  # committed here, not at exit
        assert calls == ["committed"]
    sent = [q["sql"] for q in queries.captured_queries]
    assert len(sent) == 2
    assert sent[0].startswith("BEGIN; SELECT") and sent[0].endswith("FOR UPDATE")
    assert sent[1].startswith("WITH g AS (UPDATE") and sent[1].endswith("; COMMIT")
    assert Reservation.objects.get(pk=results[0][0]).code == "T2AA"
    with pytest.raises(RuntimeError, match="already committed"):
        tx.commit(WriteBatch())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_full_slot_commits_nothing_and_runs_the_callbacks_harmlessly() -> None:
    slot = _slot(capacity=1, booked=1)
    batch = _claiming_batch(slot, _rows(slot, "T3AA"))
    with short_transaction() as tx:
        tx.select_rows(Slot, "id = %s", [slot.pk], lock=True)
        results = tx.commit(batch)
    assert results[2] == []
    assert not Reservation.objects.exists()
    slot.refresh_from_db()
    assert slot.booked == 1
    assert _other(slot).conflict_reason == ""


def _locking_batch(slot: Slot, rows: list[dict[str, Any]]) -> tuple[WriteBatch, int, int]:
    """Lock the site's other slot (ready while it has no conflict), claim seats only if it is
    ready, and — depending on the guard — insert the rows and mark the locked slot."""
    batch = WriteBatch()
    lock, name = batch.lock(
        "SELECT id, conflict_reason = '' AS ready FROM reservations_slot WHERE id = %s FOR UPDATE",
        [_other(slot).pk],
    )
    batch.insert(Reservation, rows)
    batch.depend(
        f"UPDATE reservations_slot SET conflict_reason = %s WHERE id = (SELECT id FROM {name})"
        " AND EXISTS (SELECT 1 FROM g)",
        ["読んだ"],
    )
    claim = batch.guard(
        CLAIM_SEATS_SQL + f" AND (SELECT count(*) FROM {name} WHERE ready) = 1",
        [1, slot.pk, 1],
        returning="id",
    )
    return batch, lock, claim


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ready", [True, False])
def test_a_locking_read_decides_the_guard_in_the_same_round_trip(ready: bool) -> None:
    slot = _slot(capacity=2)
    rows = _rows(slot, "L1AA")
    other = _other(slot)
    if not ready:
        Slot.objects.filter(pk=other.pk).update(conflict_reason="競合")
    batch, lock, claim = _locking_batch(slot, rows)
    with CaptureQueriesContext(connection) as queries, short_transaction() as tx:
        results = tx.commit(batch)
    (sent,) = [q["sql"] for q in queries.captured_queries]
    assert sent.startswith("BEGIN; WITH l0 AS MATERIALIZED (SELECT") and sent.endswith("COMMIT")
    assert results[lock] == [(other.pk, ready)]
    slot.refresh_from_db()
    other.refresh_from_db()
    if ready:
        assert results[claim] == [slot.pk] and slot.booked == 1
        assert other.conflict_reason == "読んだ"
        assert Reservation.objects.get().code == "L1AA"
    else:
        assert results[claim] == [] and slot.booked == 0
        assert other.conflict_reason == "競合"
        assert not Reservation.objects.exists()


@pytest.mark.django_db
def test_locking_reads_and_dependent_writes_need_postgresql_and_a_guard() -> None:
    slot = _slot()
    if connection.vendor != "postgresql":
        with pytest.raises(NotImplementedError, match="PostgreSQL"):
            WriteBatch().lock("SELECT id, true AS ready FROM reservations_slot FOR UPDATE", [])
        return
    with pytest.raises(ValueError, match="require the guard"):
        WriteBatch().depend("UPDATE reservations_slot SET booked = 0 WHERE id = %s", [slot.pk])
    unguarded = WriteBatch()
    unguarded.lock("SELECT id, true AS ready FROM reservations_slot WHERE id = %s", [slot.pk])
    with pytest.raises(ValueError, match="guarded batch"), transaction.atomic():
        unguarded.run()


class _Refused(Exception):
    pass


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_leaving_without_commit_rolls_back_and_releases_the_locks() -> None:
    import psycopg

    slot = _slot()
    calls: list[str] = []
    with pytest.raises(_Refused), short_transaction() as tx:
        tx.select_rows(Slot, "id = %s", [slot.pk], lock=True)
        raise _Refused  # e.g. the card was not bookable
    assert _status() == psycopg.pq.TransactionStatus.IDLE
    assert calls == []
    # the row lock is gone: another connection takes it without waiting
    with psycopg.connect(_url(), autocommit=False) as other:
        other.execute("SELECT 1 FROM reservations_slot WHERE id = %s FOR UPDATE NOWAIT", [slot.pk])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_commit_statement_writes_nothing_and_leaves_the_connection_usable() -> None:
    slot = _slot()
    Reservation.objects.create(**{**_reservation_values(slot, "T5AA"), "person_key": "other"})
    calls: list[str] = []
    batch = _claiming_batch(slot, _rows(slot, "T5BB", "T5AA"), calls)  # T5AA: code taken
    with pytest.raises(IntegrityError), short_transaction() as tx:
        tx.select_rows(Slot, "id = %s", [slot.pk], lock=True)
        tx.commit(batch)
    assert calls == []
    slot.refresh_from_db()
    assert slot.booked == 0
    assert _other(slot).conflict_reason == ""
    assert list(Reservation.objects.values_list("code", flat=True)) == ["T5AA"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_other_statement_runs_inside_it() -> None:
    slot = _slot()
    with pytest.raises(RuntimeError, match="no other statement"), short_transaction() as tx:
        tx.select_rows(Slot, "id = %s", [slot.pk], lock=True)
        Slot.objects.filter(pk=slot.pk).update(booked=3)  # an ORM write sneaking in
    slot.refresh_from_db()
    assert slot.booked == 0
    with pytest.raises(Exception, match="autocommit"), short_transaction() as tx:
        tx.select_rows(Slot, "id = %s", [slot.pk], lock=True)
        with transaction.atomic():  # would commit the short transaction half-way
            pass
    Slot.objects.filter(pk=slot.pk).update(booked=1)  # and after it, all is normal again
    slot.refresh_from_db()
    assert slot.booked == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_an_atomic_block_it_is_an_ordinary_transaction() -> None:
    slot = _slot()
    with pytest.raises(_Refused), transaction.atomic():
        with short_transaction() as tx:
            assert not tx.compact
            tx.commit(_claiming_batch(slot, _rows(slot, "T7AA")))
            assert Reservation.objects.filter(code="T7AA").exists()  # other statements allowed
        raise _Refused  # the outer block decides: rolled back
    assert not Reservation.objects.exists()


def _url() -> str:
    settings = connection.settings_dict
    return (
        f"postgresql://{settings['USER']}@{settings['HOST'] or 'localhost'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
