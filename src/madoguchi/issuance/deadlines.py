"""The deadline watch: arrival → notice within the target (7 days) and the limit (14 days).

Also the weekly summary a municipality can publish as "the usual time to your card". Where the
application date is unknown (the optional `applied_on` column was not in the delivery file), it is
estimated as the arrival date minus the policy's typical production lag; the summary says how many
figures were estimated.

Expiry before pick-up: the register (`forecasts.RegisterRecord`) has no link to a card (it holds
pseudonymous keys only), so the watch uses the optional `previous_card_expires_on` column of the
delivery file: cards not yet handed over whose current card or certificate has expired, or
expires within `EXPIRY_WARNING_DAYS`.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass

from madoguchi.core import clock
from madoguchi.core.dates import monday_of
from madoguchi.issuance.models import OPEN_STATUSES, CardRecord, CardStatus, IssuancePolicy
from madoguchi.issuance.services import policy_for
from madoguchi.offices.models import Municipality

EXPIRY_WARNING_DAYS = 30
WAITING_FOR_PICKUP = (CardStatus.NOTICE_ISSUED, CardStatus.BOOKED, CardStatus.REMINDED)
LATE, AT_RISK, ON_TRACK = "late", "at_risk", "on_track"
STATE_LABELS = {LATE: "期限超過", AT_RISK: "目標超過", ON_TRACK: "目標内"}


@dataclass(frozen=True)
class CardDeadline:
    card: CardRecord
    days_waiting: int
    target_on: dt.date
    limit_on: dt.date
    state: str

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class DeadlineWatch:
    cards: list[CardDeadline]
    late: int
    at_risk: int
    on_track: int
    target_days: int
    limit_days: int


def deadline_watch(
    municipality: Municipality,
    *,
    today: dt.date | None = None,
    policy: IssuancePolicy | None = None,
) -> DeadlineWatch:
    """Cards waiting for their notice, late first, then at risk, longest wait first.

    A card is at risk once today is past its target date (arrival + target days) and late once
    past its limit date (arrival + limit days). `policy`: the municipality's policy when the
    caller has read it already (the card dashboard reads it once for all its parts)."""
    today = today or clock.today()
    policy = policy or policy_for(municipality)
    rows = []
    for card in municipality.cards.filter(status__in=OPEN_STATUSES).order_by("delivered_on"):
        target_on = card.delivered_on + dt.timedelta(days=policy.notice_target_days)
        limit_on = card.delivered_on + dt.timedelta(days=policy.notice_limit_days)
        state = LATE if today > limit_on else AT_RISK if today > target_on else ON_TRACK
        rows.append(
            CardDeadline(card, (today - card.delivered_on).days, target_on, limit_on, state)
        )
    order = {LATE: 0, AT_RISK: 1, ON_TRACK: 2}
    rows.sort(key=lambda r: (order[r.state], -r.days_waiting, r.card.pk))
    counts = Counter(r.state for r in rows)
    return DeadlineWatch(
        cards=rows,
        late=counts[LATE],
        at_risk=counts[AT_RISK],
        on_track=counts[ON_TRACK],
        target_days=policy.notice_target_days,
        limit_days=policy.notice_limit_days,
    )


def expiring_before_pickup(
    municipality: Municipality, *, today: dt.date | None = None
) -> list[CardRecord]:
    """Cards not yet handed over whose holder's current card/certificate has expired or expires
    within EXPIRY_WARNING_DAYS (only where the delivery file gave that date)."""
    today = today or clock.today()
    return list(
        municipality.cards.filter(
            status__in=(*OPEN_STATUSES, *WAITING_FOR_PICKUP),
            previous_card_expires_on__lte=today + dt.timedelta(days=EXPIRY_WARNING_DAYS),
        ).order_by("previous_card_expires_on")
    )


@dataclass(frozen=True)
class WeekRow:
    week_start: dt.date
    arrivals: int
    notices: int
    hand_overs: int


@dataclass(frozen=True)
class WeeklySummary:
    weeks: list[WeekRow]
    backlog_by_age: dict[str, int]
    median_days_to_card: float | None
    handed_over_counted: int
    estimated: int
    publishable_text: str


def weekly_summary(
    municipality: Municipality,
    *,
    weeks: int = 8,
    today: dt.date | None = None,
    policy: IssuancePolicy | None = None,
) -> WeeklySummary:
    """Arrivals, notices and hand-overs per ISO week (Monday), the notice backlog by age, and the
    median days from application to hand-over over the period (see the module docstring).
    `policy`: the municipality's policy when the caller has read it already."""
    today = today or clock.today()
    policy = policy or policy_for(municipality)
    first = monday_of(today) - dt.timedelta(weeks=weeks - 1)
    starts = [first + dt.timedelta(weeks=i) for i in range(weeks)]
    arrivals: Counter[dt.date] = Counter()
    notices: Counter[dt.date] = Counter()
    hand_overs: Counter[dt.date] = Counter()
    durations: list[int] = []
    estimated = 0
    lag = dt.timedelta(days=policy.typical_production_lag_days)
    # `municipality` is read too: a reverse manager's rows get their municipality set from it,
    # and a deferred municipality_id was fetched with a statement of its own for every card.
    cards = municipality.cards.only(
        "municipality",
        "delivered_on",
        "first_notice_issued_at",
        "handed_over_at",
        "applied_on",
        "status",
    )
    for card in cards.iterator(chunk_size=2000):
        if card.delivered_on >= first:
            arrivals[monday_of(card.delivered_on)] += 1
        if card.first_notice_issued_at:
            day = clock.to_jst(card.first_notice_issued_at).date()
            if day >= first:
                notices[monday_of(day)] += 1
        if card.handed_over_at:
            day = clock.to_jst(card.handed_over_at).date()
            if day >= first:
                hand_overs[monday_of(day)] += 1
                applied = card.applied_on or (card.delivered_on - lag)
                estimated += card.applied_on is None
                durations.append((day - applied).days)
    backlog = {"0〜7日": 0, "8〜14日": 0, "15日以上": 0}
    for delivered_on in municipality.cards.filter(status__in=OPEN_STATUSES).values_list(
        "delivered_on", flat=True
    ):
        age = (today - delivered_on).days
        key = "0〜7日" if age <= 7 else "8〜14日" if age <= 14 else "15日以上"
        backlog[key] += 1
    median = statistics.median(durations) if durations else None
    if median is None:
        text = "この期間に交付したカードがないため、目安を計算できません。"
    else:
        text = (
            f"{municipality.name}では、最近{weeks}週間にカードを受け取った方は、申請から受け取り"
            f"まで通常 約{round(median / 7)}週間（中央値 {median:.0f}日）でした。"
            "カードが届くと交付通知書をお送りしますので、届いてから予約してください。"
        )
    return WeeklySummary(
        weeks=[WeekRow(s, arrivals[s], notices[s], hand_overs[s]) for s in starts],
        backlog_by_age=backlog,
        median_days_to_card=median,
        handed_over_counted=len(durations),
        estimated=estimated,
        publishable_text=text,
    )
