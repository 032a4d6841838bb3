"""Unclaimed cards: reminder letters (再通知) when they are due, and the cards due for destruction.

A card whose notice went out `IssuancePolicy.reminder_after_days` ago and that nobody booked or
collected gets a reminder letter: printed and mailed like a notice (PDF + mailing CSV, one batch
of kind `reminder`), paced so that every reminded resident can still find a seat. A reminded card
may be destroyed from the date the policy's rule gives (`services.destroy_due_on`); destruction is
recorded per card with the official who did it (`services.destroy_card`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.issuance.services import destroy_due_on, policy_for, send_reminders
from madoguchi.offices.models import Municipality
from madoguchi.reservations.selectors import free_card_pickup_seats


def cards_due_for_reminder(municipality_id: int, *, today: dt.date) -> QuerySet[CardRecord]:
    """Unclaimed cards whose reminder letter is due today (notice date + the policy's
    `reminder_after_days` ≤ today), oldest notice first (the order reminders go out in)."""
    days = policy_for(municipality_id).reminder_after_days
    cutoff = clock.at(today - dt.timedelta(days=days - 1), dt.time(0, 0))
    return CardRecord.objects.filter(
        municipality_id=municipality_id,
        status=CardStatus.NOTICE_ISSUED,
        notice_issued_at__lt=cutoff,
    ).order_by("notice_issued_at", "pk")


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


@dataclass(frozen=True)
class ReminderProposal:
    """How many reminder letters go out now, and why."""

    due: int
    free_seats: int
    reminded_unbooked: int
    room: int
    proposed: int

    def explanation(self) -> list[str]:
        return [
            f"再通知の時期を過ぎた未受け取りのカード: {self.due}枚",
            f"カード受け取りの空き枠: {self.free_seats}人分",
            f"再通知済みでまだ予約のないカード: {self.reminded_unbooked}枚",
            f"差し引き、予約できる余地: {self.free_seats} − {self.reminded_unbooked} = {self.room}",
            f"今回の再通知: {self.proposed}通（上の数のうち最も小さいもの）",
        ]


def propose_reminders(*, municipality: Municipality, limit: int | None = None) -> ReminderProposal:
    """Reminders for the due cards, never more than the free seats left for reminded residents."""
    policy = policy_for(municipality)
    today = clock.today()
    free = free_card_pickup_seats(
        municipality_id=municipality.pk,
        window_from=clock.now(),
        window_until=clock.at(today + dt.timedelta(weeks=policy.pacing_horizon_weeks), dt.time()),
    )
    due = cards_due_for_reminder(municipality.pk, today=today).count()
    reminded = municipality.cards.filter(status=CardStatus.REMINDED).count()
    room = max(0, free - reminded)
    proposed = min(due, room) if limit is None else min(due, room, max(0, limit))
    return ReminderProposal(
        due=due, free_seats=free, reminded_unbooked=reminded, room=room, proposed=proposed
    )


@dataclass(frozen=True)
class ReminderBatch:
    batch_id: int | None
    cards: list[CardRecord]
    proposal: ReminderProposal


def issue_reminder_batch(
    *, municipality: Municipality, actor: Actor, limit: int | None = None
) -> ReminderBatch:
    """Send the paced batch of reminder letters (oldest notice first); nothing when none is
    due or no seat is free."""
    proposal = propose_reminders(municipality=municipality, limit=limit)
    chosen = list(cards_due_for_reminder(municipality.pk, today=clock.today())[: proposal.proposed])
    if not chosen:
        return ReminderBatch(batch_id=None, cards=[], proposal=proposal)
    batch = send_reminders(
        cards=chosen, actor=actor, municipality=municipality, pacing=proposal.__dict__
    )
    return ReminderBatch(batch_id=batch.pk, cards=reminder_batch_cards(batch.pk), proposal=proposal)


def reminder_batch_cards(batch_id: int) -> list[CardRecord]:
    """A reminder batch's cards in page order."""
    return list(
        CardRecord.objects.filter(reminder_batch_id=batch_id).order_by("notice_issued_at", "pk")
    )
