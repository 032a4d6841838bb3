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
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from django.db.models import Count, Q

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.issuance.models import CardRecord, CardStatus, IssuancePolicy
from madoguchi.issuance.notices import batch_cards
from madoguchi.issuance.selectors import READY_FOR_NOTICE, cards_ready_for_notice
from madoguchi.issuance.services import issue_notices, policy_for, send_reminders
from madoguchi.issuance.unclaimed import (
    cards_due_for_reminder,
    reminder_batch_cards,
    reminder_due,
)
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


@dataclass(frozen=True)
class _Inputs:
    """What both proposals are made from, read once: the window, its free pick-up seats and the
    municipality's cards as the pacing counts them."""

    horizon_weeks: int
    window_from: dt.datetime
    window_until: dt.datetime
    free_seats: int
    ready: int  # set up, waiting for a notice
    outstanding: int  # a notice or a reminder out, not booked
    reminded: int  # a reminder out, not booked
    due: int  # due for a reminder today


def _read_inputs(municipality: Municipality, policy: IssuancePolicy | None) -> _Inputs:
    """One statement for the seats and one for the four card counts (the rules of `ready` and
    `due` are the selectors' own: `READY_FOR_NOTICE`, `unclaimed.reminder_due`)."""
    policy = policy or policy_for(municipality)
    today = clock.today()
    window_from = clock.now()
    window_until = clock.at(today + dt.timedelta(weeks=policy.pacing_horizon_weeks), dt.time(0, 0))
    free = free_card_pickup_seats(
        municipality_id=municipality.pk, window_from=window_from, window_until=window_until
    )
    counts = CardRecord.objects.filter(municipality_id=municipality.pk).aggregate(
        ready=Count("pk", filter=READY_FOR_NOTICE),
        outstanding=Count(
            "pk", filter=Q(status__in=(CardStatus.NOTICE_ISSUED, CardStatus.REMINDED))
        ),
        reminded=Count("pk", filter=Q(status=CardStatus.REMINDED)),
        due=Count("pk", filter=reminder_due(today=today, policy=policy)),
    )
    return _Inputs(
        horizon_weeks=policy.pacing_horizon_weeks,
        window_from=window_from,
        window_until=window_until,
        free_seats=free,
        ready=counts["ready"],
        outstanding=counts["outstanding"],
        reminded=counts["reminded"],
        due=counts["due"],
    )


def _batch(inputs: _Inputs, limit: int | None) -> PacingProposal:
    room = max(0, inputs.free_seats - inputs.outstanding)
    proposed = min(inputs.ready, room)
    if limit is not None:
        proposed = min(proposed, max(0, limit))
    return PacingProposal(
        horizon_weeks=inputs.horizon_weeks,
        window_from=inputs.window_from,
        window_until=inputs.window_until,
        free_seats=inputs.free_seats,
        outstanding_notices=inputs.outstanding,
        ready_cards=inputs.ready,
        room=room,
        proposed=proposed,
        limit=limit,
    )


def propose_batch(*, municipality: Municipality, limit: int | None = None) -> PacingProposal:
    """How many ready cards may get their notice now (see the module docstring)."""
    return _batch(_read_inputs(municipality, None), limit)


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


def _reminders(inputs: _Inputs, limit: int | None) -> ReminderProposal:
    room = max(0, inputs.free_seats - inputs.reminded)
    proposed = min(inputs.due, room) if limit is None else min(inputs.due, room, max(0, limit))
    return ReminderProposal(
        due=inputs.due,
        free_seats=inputs.free_seats,
        reminded_unbooked=inputs.reminded,
        room=room,
        proposed=proposed,
    )


def propose_reminders(*, municipality: Municipality, limit: int | None = None) -> ReminderProposal:
    """Reminders for the due cards, never more than the free seats left for reminded residents."""
    return _reminders(_read_inputs(municipality, None), limit)


class DashboardProposals(NamedTuple):
    batch: PacingProposal
    reminders: ReminderProposal


def dashboard_proposals(
    municipality: Municipality, *, policy: IssuancePolicy | None = None
) -> DashboardProposals:
    """Both proposals of the card dashboard from one read of the seats and the cards — each the
    same as `propose_batch` and `propose_reminders` make alone (without a limit). `policy`: the
    municipality's policy when the caller has read it already."""
    inputs = _read_inputs(municipality, policy)
    return DashboardProposals(batch=_batch(inputs, None), reminders=_reminders(inputs, None))


@dataclass(frozen=True)
class ReminderBatch:
    batch_id: int | None
    cards: list[CardRecord]
    proposal: ReminderProposal


def issue_reminder_batch(
    *, municipality: Municipality, actor: Actor, limit: int | None = None
) -> ReminderBatch:
    """Send the paced batch of reminder letters (oldest notice first); nothing when none is
    due or no seat is free. The issuance policy is read once, for the proposal, the cards due
    and the letters' check."""
    policy = policy_for(municipality)
    proposal = _reminders(_read_inputs(municipality, policy), limit)
    due = cards_due_for_reminder(municipality.pk, today=clock.today(), policy=policy)
    chosen = list(due[: proposal.proposed])
    if not chosen:
        return ReminderBatch(batch_id=None, cards=[], proposal=proposal)
    batch = send_reminders(
        cards=chosen,
        actor=actor,
        municipality=municipality,
        pacing=proposal.__dict__,
        policy=policy,
    )
    return ReminderBatch(batch_id=batch.pk, cards=reminder_batch_cards(batch.pk), proposal=proposal)
