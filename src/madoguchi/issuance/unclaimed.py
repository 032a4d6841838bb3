"""Unclaimed cards: reminder letters (再通知) when they are due, and the cards due for destruction.

A card whose notice went out `IssuancePolicy.reminder_after_days` ago and that nobody booked or
collected gets a reminder letter: printed and mailed like a notice (PDF + mailing CSV, one batch
of kind `reminder`), paced so that every reminded resident can still find a seat (the pacing is
`reservations.pacing`, which sees the seats). A reminded card may be destroyed from the date the
policy's rule gives (`services.destroy_due_on`); destruction is recorded per card with the
official who did it (`services.destroy_card`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from madoguchi.core import clock
from madoguchi.issuance.models import CardRecord, CardStatus, IssuancePolicy
from madoguchi.issuance.services import destroy_due_on, policy_for


def cards_due_for_reminder(
    municipality_id: int, *, today: dt.date, policy: IssuancePolicy | None = None
) -> QuerySet[CardRecord]:
    """Unclaimed cards whose reminder letter is due today (notice date + the policy's
    `reminder_after_days` ≤ today), oldest notice first (the order reminders go out in).
    `policy`: the municipality's policy when the caller has read it already."""
    due = reminder_due(today=today, policy=policy or policy_for(municipality_id))
    return CardRecord.objects.filter(due, municipality_id=municipality_id).order_by(
        "notice_issued_at", "pk"
    )


def reminder_due(*, today: dt.date, policy: IssuancePolicy) -> Q:
    """A card whose reminder letter is due `today`: a notice out and unbooked, issued at least
    the policy's `reminder_after_days` ago (also counted by `reservations.pacing`)."""
    cutoff = clock.at(today - dt.timedelta(days=policy.reminder_after_days - 1), dt.time(0, 0))
    return Q(status=CardStatus.NOTICE_ISSUED, notice_issued_at__lt=cutoff)


@dataclass(frozen=True)
class DestructionDue:
    card: CardRecord
    due_on: dt.date
    rule: str


def cards_due_for_destruction(
    municipality_id: int, *, today: dt.date, within_days: int = 31
) -> list[DestructionDue]:
    """Reminded, unclaimed cards that may be destroyed by `today + within_days`, with the date
    and the rule that sets it, earliest first."""
    policy = policy_for(municipality_id)
    rule = policy.get_destroy_rule_display()
    horizon = today + dt.timedelta(days=within_days)
    due = []
    for card in CardRecord.objects.filter(
        municipality_id=municipality_id, status=CardStatus.REMINDED
    ).order_by("reminded_at", "pk"):
        day = destroy_due_on(card, policy)
        if day is not None and day <= horizon:
            due.append(DestructionDue(card=card, due_on=day, rule=rule))
    return sorted(due, key=lambda d: (d.due_on, d.card.pk))


def reminder_batch_cards(batch_id: int) -> list[CardRecord]:
    """A reminder batch's cards in page order."""
    return list(
        CardRecord.objects.filter(reminder_batch_id=batch_id).order_by("notice_issued_at", "pk")
    )
