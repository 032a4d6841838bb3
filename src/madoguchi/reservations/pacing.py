"""Notice pacing: how many notices and reminder letters to mail now — never more than residents
could book.

proposed = min(ready cards, free card pick-up seats over the next N weeks − notices already out
and not yet booked), never below zero; reminder letters the same with the cards due for a
reminder and the reminded cards not yet booked. Free seats are `capacity − booked` of offered
card pick-up slots starting in the window (`selectors.free_card_pickup_seats`); the cards, the
batches and their audit events are the card pipeline's (`issuance.services.issue_notices`,
`send_reminders`). Pacing lives here, above `issuance`, because it is where both its inputs are
visible: the card pipeline does not read seats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.issuance.models import CardRecord, CardStatus, IssuancePolicy
from madoguchi.issuance.notices import batch_cards
from madoguchi.issuance.selectors import cards_ready_for_notice
from madoguchi.issuance.services import issue_notices, policy_for, send_reminders
from madoguchi.issuance.unclaimed import cards_due_for_reminder, reminder_batch_cards
from madoguchi.offices.models import Municipality
from madoguchi.reservations.selectors import free_card_pickup_seats


@dataclass(frozen=True)
class PacingProposal:
    """The arithmetic behind one proposed batch, as shown on the notices page."""

    horizon_weeks: int
    window_from: dt.datetime
    window_until: dt.datetime
    free_seats: int
    outstanding_notices: int
    ready_cards: int
    room: int
    proposed: int
    limit: int | None

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["window_from"] = self.window_from.isoformat()
        values["window_until"] = self.window_until.isoformat()
        return values

    def explanation(self) -> list[str]:
        """The arithmetic in plain Japanese, one step a line."""
        lines = [
            f"今後{self.horizon_weeks}週間（{self.window_from:%Y年%m月%d日}〜"
            f"{self.window_until - dt.timedelta(days=1):%m月%d日}）の"
            f"カード受け取りの空き枠: {self.free_seats}人分",
            f"発送済みでまだ予約のない通知書: {self.outstanding_notices}通",
            f"差し引き、予約できる余地: {self.free_seats} − {self.outstanding_notices}"
            f" = {self.room}",
            f"交付前設定が済み、通知書を待っているカード: {self.ready_cards}枚",
        ]
        if self.limit is not None:
            lines.append(f"1回の上限（指定）: {self.limit}通")
        lines.append(f"今回の発送数: {self.proposed}通（上の数のうち最も小さいもの）")
        return lines


def propose_batch(
    *,
    municipality: Municipality,
    limit: int | None = None,
    policy: IssuancePolicy | None = None,
    by_status: Mapping[str, int] | None = None,
) -> PacingProposal:
    """How many ready cards may get their notice now (see the module docstring). `policy`: the
    municipality's policy when the caller has read it already; `by_status`: the number of its
    cards in each status when the caller has counted them (a status absent: none)."""
    policy = policy or policy_for(municipality)
    window_from = clock.now()
    window_until = clock.at(
        clock.today() + dt.timedelta(weeks=policy.pacing_horizon_weeks), dt.time(0, 0)
    )
    free = free_card_pickup_seats(
        municipality_id=municipality.pk, window_from=window_from, window_until=window_until
    )
    if by_status is not None:
        outstanding = by_status.get(CardStatus.NOTICE_ISSUED, 0) + by_status.get(
            CardStatus.REMINDED, 0
        )
    else:
        outstanding = municipality.cards.filter(
            status__in=(CardStatus.NOTICE_ISSUED, CardStatus.REMINDED)
        ).count()
    ready = cards_ready_for_notice(municipality.pk).count()
    room = max(0, free - outstanding)
    proposed = min(ready, room)
    if limit is not None:
        proposed = min(proposed, max(0, limit))
    return PacingProposal(
        horizon_weeks=policy.pacing_horizon_weeks,
        window_from=window_from,
        window_until=window_until,
        free_seats=free,
        outstanding_notices=outstanding,
        ready_cards=ready,
        room=room,
        proposed=proposed,
        limit=limit,
    )


@dataclass(frozen=True)
class IssuedBatch:
    batch_id: int | None
    cards: list[CardRecord]
    proposal: PacingProposal


def issue_paced_batch(
    *, municipality: Municipality, actor: Actor, limit: int | None = None
) -> IssuedBatch:
    """Issue notices for as many ready cards as the pacing allows (oldest arrival first).

    Returns the batch (None when nothing was issued), the cards in page order and the
    arithmetic. Writes happen in `issuance.services.issue_notices` (atomic, audited per card)."""
    proposal = propose_batch(municipality=municipality, limit=limit)
    chosen = list(cards_ready_for_notice(municipality.pk)[: proposal.proposed])
    if not chosen:
        return IssuedBatch(batch_id=None, cards=[], proposal=proposal)
    batch = issue_notices(
        cards=chosen, actor=actor, municipality=municipality, pacing=proposal.as_dict()
    )
    cards = batch_cards(batch.pk)
    return IssuedBatch(batch_id=batch.pk, cards=cards, proposal=proposal)


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


def propose_reminders(
    *,
    municipality: Municipality,
    limit: int | None = None,
    policy: IssuancePolicy | None = None,
    by_status: Mapping[str, int] | None = None,
    batch: PacingProposal | None = None,
) -> ReminderProposal:
    """Reminders for the due cards, never more than the free seats left for reminded residents.
    `policy`: the municipality's policy when the caller has read it already; `by_status`: the
    number of its cards in each status when the caller has counted them; `batch`: the notice
    pacing's proposal made for this municipality just before: its count of free seats is this
    one's when its window ends where this one's does (the same horizon from the same day)."""
    policy = policy or policy_for(municipality)
    today = clock.today()
    window_until = clock.at(today + dt.timedelta(weeks=policy.pacing_horizon_weeks), dt.time())
    if batch is not None and batch.window_until == window_until:
        free = batch.free_seats
    else:
        free = free_card_pickup_seats(
            municipality_id=municipality.pk, window_from=clock.now(), window_until=window_until
        )
    due = cards_due_for_reminder(municipality.pk, today=today, policy=policy).count()
    if by_status is not None:
        reminded = by_status.get(CardStatus.REMINDED, 0)
    else:
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
