"""The calling order: who a counter calls next, and where a waiting ticket stands.

One rule, written twice — as a database ordering (`call_order`, used by `call_next_ticket` with
row locks) and as a Python key (`order_key`, used for positions and estimates) — and a test
holds them equal (tests/walkins/test_calling_policy.py):

0. a visitor transferred to this counter (they had already been called: their place is kept);
1. booked visitors whose time has come — from `early_minutes` before their booking — by
   booking time;
2. walk-ins, and booked visitors who checked in later than `late_grace_minutes` after their
   booking time (`priority` walk-in, decided at check-in), by the time they took the ticket;
3. booked visitors who came early, by booking time: walk-ins fill the gap until their time,
   and an idle counter takes them when nobody else waits.

Tickets are ordered by when they were issued (then id), not by number: numbers with different
prefixes (A1, B1) are separate sequences.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from madoguchi.offices.models import Counter
from madoguchi.walkins.models import QueueTicket, TicketPriority

RANK_TRANSFERRED = 0
RANK_BOOKED_DUE = 1
RANK_IN_ORDER = 2
RANK_BOOKED_EARLY = 3


def order_key(
    ticket: QueueTicket, *, now: dt.datetime, early_minutes: int, counter: Counter | None = None
) -> tuple[int, dt.datetime, int]:
    """Sort key of a waiting ticket in the calling order (lower = called sooner)."""
    if counter is not None and ticket.transfer_counter_id == counter.pk:
        return (RANK_TRANSFERRED, ticket.issued_at, ticket.pk)
    if ticket.priority == TicketPriority.APPOINTMENT and ticket.appointment_at is not None:
        due = ticket.appointment_at - dt.timedelta(minutes=early_minutes) <= now
        return (RANK_BOOKED_DUE if due else RANK_BOOKED_EARLY, ticket.appointment_at, ticket.pk)
    return (RANK_IN_ORDER, ticket.issued_at, ticket.pk)


def call_order(
    tickets: QuerySet[QueueTicket],
    *,
    now: dt.datetime,
    early_minutes: int,
    counter: Counter | None = None,
) -> QuerySet[QueueTicket]:
    """`tickets` (waiting ones) in the calling order, as `order_key` sorts them."""
    due_from = now + dt.timedelta(minutes=early_minutes)
    booked = Q(priority=TicketPriority.APPOINTMENT, appointment_at__isnull=False)
    transferred = [When(transfer_counter=counter, then=Value(RANK_TRANSFERRED))] if counter else []
    return tickets.annotate(
        calling_rank=Case(
            *transferred,
            When(booked & Q(appointment_at__lte=due_from), then=Value(RANK_BOOKED_DUE)),
            When(booked, then=Value(RANK_BOOKED_EARLY)),
            default=Value(RANK_IN_ORDER),
            output_field=IntegerField(),
        ),
        calling_at=Case(
            *([When(transfer_counter=counter, then=F("issued_at"))] if counter else []),
            When(booked, then=F("appointment_at")),
            default=F("issued_at"),
        ),
    ).order_by("calling_rank", "calling_at", "pk")
