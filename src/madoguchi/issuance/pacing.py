"""How many notices to mail now: never more than residents could book.

proposed = min(ready cards, free card_pickup seats over the next N weeks − notices already out
and not yet booked), never below zero. Free seats come from the reservations app
(`reservations.selectors.free_card_pickup_seats`: `capacity − booked` of offered card_pickup
slots starting in the window).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from madoguchi.core import clock
from madoguchi.issuance.models import CardStatus
from madoguchi.issuance.selectors import cards_ready_for_notice
from madoguchi.issuance.services import policy_for
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


def propose_batch(*, municipality: Municipality, limit: int | None = None) -> PacingProposal:
    """How many ready cards may get their notice now (see the module docstring)."""
    policy = policy_for(municipality)
    window_from = clock.now()
    window_until = clock.at(
        clock.today() + dt.timedelta(weeks=policy.pacing_horizon_weeks), dt.time(0, 0)
    )
    free = free_card_pickup_seats(
        municipality_id=municipality.pk, window_from=window_from, window_until=window_until
    )
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
