"""The booking transaction as ONE PostgreSQL statement: the whole SQL that runs, in one place.

`reservations.services` books through `book_in_one_statement` on PostgreSQL (unless
`MADOGUCHI_BOOKING_PATH` is `orm`); SQLite and the `orm` setting take the ORM reference
implementation in `services._book_with_orm`, which the differential tests keep equal to this
one (tests/reservations/test_booking_paths.py). Nothing else imports this module (import
contract "only the booking service uses the booking statement").

Why one statement (decisions 0008, 0009, 0011): in a booking rush the database round trip and
the ORM's statement compiling cost more than the database's own work. Here `BEGIN;`, the
statement and `COMMIT` travel together: one round trip per booking, whatever the procedure and
however many people book together. The statement's text never changes (every per-booking value
is a parameter, a group's people arrive as arrays), so psycopg parses it once per process.

What it does, in order (PostgreSQL runs data-modifying WITH queries exactly once each):
1. `applicant`: one row per person, from the arrays.
2. `card` (card pick-ups only): each applicant's card, found by notice number and birth date in
   the slot's municipality, LOCKED in notice order (families cannot deadlock); `ready` when it
   waits for a booking. A waiting booking sees the card as its lock holder committed it.
3. `claim` — invariant 1: the seats, claimed by one conditional UPDATE, and only if every card
   was found and ready. Every write below requires `EXISTS (SELECT 1 FROM claim)`: no seat (or
   no card), nothing written — so COMMIT need not wait for Python to look at the result.
4. `reservation`: the reservations. `card_move`: each card to booked with its reservation code.
   `event`: the audit events — `card.book` (its `before` from the locked row) and
   `reservation.book` — appended unsealed, as `core.audit.record_audit_events` appends them,
   each with its row seal computed here (`core.audit.row_seal`).
5. The result tells Python what happened: the cards the lock found (id, ready), whether the
   seats were claimed, and each new reservation's id.

Statuses and actions are written into the text; a test holds them (and every table and column
name) equal to the models' own (tests/reservations/test_fastpath.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from madoguchi.core import audit
from madoguchi.reservations.models import Reservation

logger = logging.getLogger(__name__)
CARD, RESERVATION = "issuance.CardRecord", "reservations.Reservation"  # audit subject types

STATEMENT = """\
WITH applicant AS (
  SELECT * FROM unnest(
      %(code)s::text[], %(person_key)s::text[], %(birth_date)s::date[],
      %(family_name_kana)s::text[], %(given_name_kana)s::text[], %(email)s::text[],
      %(phone)s::text[], %(notice_number)s::text[], %(is_proxy)s::boolean[],
      %(card_seal)s::text[], %(reservation_seal)s::text[]
  ) AS a(code, person_key, birth_date, family_name_kana, given_name_kana, email, phone,
         notice_number, is_proxy, card_seal, reservation_seal)
), card AS MATERIALIZED (
  SELECT id, status IN ('notice_issued', 'reminded') AS ready, status, notice_number
    FROM issuance_cardrecord
   WHERE %(pickup)s AND municipality_id = %(municipality)s
     AND status IN ('notice_issued', 'reminded', 'booked')
     AND (notice_number, birth_date) IN (SELECT notice_number, birth_date FROM applicant)
   ORDER BY notice_number
     FOR UPDATE
), claim AS (  -- invariant 1: the seats or none (the CHECK `booked <= capacity` backs it)
  UPDATE reservations_slot
     SET booked = booked + %(seats)s
   WHERE id = %(slot)s AND booked + %(seats)s <= capacity AND is_offered
     AND (SELECT count(*) FROM card WHERE ready) = %(cards)s
  RETURNING id
), reservation AS (
  INSERT INTO reservations_reservation
    (code, group_code, slot_id, procedure_id, status, channel, person_key, birth_date,
     family_name_kana, given_name_kana, email, phone, notice_number, is_proxy, language,
     created_at, updated_at, revision)
  SELECT code, %(group)s, %(slot)s, %(procedure)s, 'booked', %(channel)s, person_key, birth_date,
         family_name_kana, given_name_kana, email, phone, notice_number, is_proxy, %(language)s,
         %(now)s, %(now)s, 0
    FROM applicant
   WHERE EXISTS (SELECT 1 FROM claim)
  RETURNING id, code
), card_move AS (
  UPDATE issuance_cardrecord AS moved
     SET status = 'booked', booked_at = %(now)s, reservation_code = applicant.code,
         updated_at = %(now)s
    FROM card JOIN applicant USING (notice_number)
   WHERE moved.id = card.id AND card.ready AND EXISTS (SELECT 1 FROM claim)
), event AS (
  INSERT INTO core_auditevent
    (at, actor, action, subject_type, subject_id, before, after, previous_hash, hash, mac)
  SELECT %(now)s, %(actor)s, 'card.book', 'issuance.CardRecord', card.id::text,
         jsonb_build_object('status', card.status),
         jsonb_build_object('status', 'booked', 'reservation', applicant.code), '', '',
         applicant.card_seal
    FROM card JOIN applicant USING (notice_number)
   WHERE card.ready AND EXISTS (SELECT 1 FROM claim)
  UNION ALL
  SELECT %(now)s, %(actor)s, 'reservation.book', 'reservations.Reservation', code, NULL,
         jsonb_build_object('status', 'booked', 'slot', %(slot)s::bigint,
                            'channel', %(channel)s::text, 'group', %(group)s::text), '', '',
         reservation_seal
    FROM applicant
   WHERE EXISTS (SELECT 1 FROM claim)
)
SELECT 'card', id, NULL::text, ready FROM card
UNION ALL SELECT 'claim', id, NULL, NULL FROM claim
UNION ALL SELECT 'reservation', id, code, NULL FROM reservation"""
"""The booking. Parameters: see `_parameters`."""

CLAIM = """\
     SET booked = booked + %(seats)s
   WHERE id = %(slot)s AND booked + %(seats)s <= capacity"""
UNSAFE_CLAIM_FOR_THE_NEGATIVE_CONTROL = """\
     SET booked = %(seen)s + %(seats)s
   WHERE id = %(slot)s AND %(seen)s + %(seats)s <= capacity"""
"""The concurrency tests' negative control only: the claim decided on a count Python read
earlier (`seen`) — read, think, write — which loses concurrent bookings' updates."""

_UNSAFE_STATEMENT = STATEMENT.replace(CLAIM, UNSAFE_CLAIM_FOR_THE_NEGATIVE_CONTROL)


@dataclass(frozen=True)
class Outcome:
    """What the statement did: `cards` the lock found as (id, ready); `claimed` whether the
    seats (and so everything else) were written; `ids` each new reservation's id by code."""

    cards: list[tuple[int, bool]]
    claimed: bool
    ids: dict[str, int]


def book_in_one_statement(
    reservations: Sequence[Reservation],
    *,
    pickup: bool,
    municipality_id: int,
    actor: audit.Actor,
) -> Outcome:
    """Write `reservations` (unsaved, one slot, one group, same procedure and channel) with
    their seats, cards (`pickup`) and audit events — all, or nothing when a card or the seats
    were missing. Outside a transaction this IS the transaction (BEGIN … COMMIT in the same
    round trip); inside one (tests, a caller's `atomic`) it joins it in a savepoint.
    """
    params = _parameters(reservations, pickup=pickup, municipality_id=municipality_id, actor=actor)
    return _run(STATEMENT, params)


def book_on_a_count_read_earlier(
    reservations: Sequence[Reservation],
    *,
    pickup: bool,
    municipality_id: int,
    actor: audit.Actor,
    seen: int,
) -> Outcome:
    """For the concurrency tests' negative control only (the seam in `services`):
    `book_in_one_statement` with the seats claimed on `seen`, a count read earlier, instead of
    the conditional UPDATE."""
    params = _parameters(reservations, pickup=pickup, municipality_id=municipality_id, actor=actor)
    return _run(_UNSAFE_STATEMENT, {**params, "seen": seen})


def _run(statement: str, params: dict[str, Any]) -> Outcome:
    if connection.get_autocommit() and not connection.in_atomic_block:
        rows = _own_transaction(statement, params)
        audit.seal_after_commit()
    else:  # a savepoint: a failed booking (a double submit) leaves the caller's transaction
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
            rows = cursor.fetchall()
        transaction.on_commit(audit.seal_after_commit)
    return Outcome(
        cards=[(int(id_), bool(ready)) for kind, id_, _code, ready in rows if kind == "card"],
        claimed=any(kind == "claim" for kind, *_rest in rows),
        ids={code: int(id_) for kind, id_, code, _ready in rows if kind == "reservation"},
    )


def _parameters(
    reservations: Sequence[Reservation], *, pickup: bool, municipality_id: int, actor: audit.Actor
) -> dict[str, Any]:
    first = reservations[0]
    now: dt.datetime = first.created_at.astimezone(dt.UTC)
    card_after = [{"status": "booked", "reservation": r.code} for r in reservations]
    reservation_after = {
        "status": "booked",
        "slot": first.slot_id,
        "channel": first.channel,
        "group": first.group_code,
    }
    return {
        # one array per column that differs between the people of a group
        "code": [r.code for r in reservations],
        "person_key": [r.person_key for r in reservations],
        "birth_date": [r.birth_date for r in reservations],
        "family_name_kana": [r.family_name_kana for r in reservations],
        "given_name_kana": [r.given_name_kana for r in reservations],
        "email": [r.email for r in reservations],
        "phone": [r.phone for r in reservations],
        "notice_number": [r.notice_number for r in reservations],
        "is_proxy": [r.is_proxy for r in reservations],
        # each event's row seal (core.audit), over what its row will hold
        "card_seal": [
            audit.row_seal(at=now, actor=actor, action="card.book", subject_type=CARD, after=after)
            if pickup
            else ""
            for after in card_after
        ],
        "reservation_seal": [
            audit.row_seal(
                at=now,
                actor=actor,
                action="reservation.book",
                subject_type=RESERVATION,
                subject_id=r.code,
                after=reservation_after,
            )
            for r in reservations
        ],
        # the same for everyone
        "pickup": pickup,
        "municipality": municipality_id,
        "seats": len(reservations),
        "cards": len(reservations) if pickup else 0,
        "slot": first.slot_id,
        "procedure": first.procedure_id,
        "group": first.group_code,
        "channel": first.channel,
        "language": first.language,
        "now": now,
        "actor": actor.label,
    }


def _own_transaction(statement: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """BEGIN, the statement and COMMIT in one round trip; ROLLBACK when the statement failed
    (e.g. a unique violation: a double submit), leaving the connection usable."""
    import psycopg

    connection.ensure_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"BEGIN; {statement}; COMMIT", params)
            cursor.nextset()  # past BEGIN's own result
            return list(cursor.fetchall())
    finally:
        raw = connection.connection
        if raw is not None and raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            try:
                raw.execute("ROLLBACK")
            except psycopg.Error:  # a broken connection: Django discards it after the request
                logger.warning("rollback of a booking statement failed", exc_info=True)
