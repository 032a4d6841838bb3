"""Applying the backlog's proposals as the manager saw them (the planning page's one action).

The page shows a plan — the special openings and temporary counters the proposer picks for the
projected backlog — and its fingerprint, `plan_digest`, goes with the form. `apply_backlog_plan`
works the plan out again under a lock on the municipality's row and applies it only when its
fingerprint is the one shown: a plan that changed since the page was drawn (another manager
applied it, an option or a policy was edited, cards or bookings moved the projection) is
refused whole, with nothing changed, so nobody applies openings and costs they never saw — and
two managers applying at once cannot both add them (the second waits for the first, then finds
the plan changed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.db import transaction
from django.utils.translation import gettext as _

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.forecasts.selectors import BacklogView, backlog_view
from madoguchi.forecasts.services import AppliedOpenings, ProposedOpening, apply_opening_proposals
from madoguchi.offices.models import Municipality
from madoguchi.planning.backlog import ProposalResult, propose_openings

__all__ = ["TARGET_LEAD_DAYS", "apply_backlog_plan", "plan_digest", "propose"]

TARGET_LEAD_DAYS = 14
"""The longest wait for a card pick-up booking the plan aims at (days)."""


def propose(view: BacklogView) -> ProposalResult:
    return propose_openings(
        view.data, view.options, temporary=view.temporary, target_days=TARGET_LEAD_DAYS
    )


def plan_digest(view: BacklogView, result: ProposalResult) -> str:
    """The fingerprint of what applying `result` would do: every opening (site, week, kind,
    sessions, seats, cost) and every temporary counter (option, name, seats, cost)."""
    plan = {
        "openings": [
            [
                p.option.site_id,
                view.week_starts[p.week].isoformat(),
                p.option.session_kind,
                p.sessions,
                round(p.seats, 3),
                round(p.cost, 2),
            ]
            for p in result.proposals
        ],
        "counters": [
            [t.site_id, t.name, [round(s, 3) for s in t.weekly_seats], round(t.cost, 2)]
            for t in result.opened
        ],
        "until": view.last_day.isoformat(),
    }
    return hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()


def plan_changed() -> DomainError:
    return DomainError(
        "plan_changed",
        _(
            "表示していた案から変わっています（ほかの職員が適用した、計画の前提や臨時窓口の候補が"
            "変わった など）。何も変更していません。新しい案を確かめてから、もう一度適用して"
            "ください。"
        ),
        status=409,
    )


# Seams of the concurrency test (tests/forecasts/test_backlog_plan_concurrency.py monkeypatches
# them; production never changes them), so that `apply_backlog_plan`'s signature carries no
# parameter for tests.

UNLOCKED_FOR_THE_NEGATIVE_CONTROL = False
"""True: `apply_backlog_plan` leaves the municipality's row unheld (two managers both apply)."""


def planned(municipality: Municipality) -> None:
    """Runs inside `apply_backlog_plan` once the plan is worked out and found to be the one
    shown. Nothing in production; the concurrency test replaces it to hold two applies there."""


def apply_backlog_plan(
    municipality: Municipality,
    *,
    shown: str,
    today: dt.date,
    actor: Actor,
) -> AppliedOpenings:
    """Apply the plan worked out now if its `plan_digest` is `shown`; else 409 `plan_changed`
    and nothing changes. One transaction, holding the municipality's row (FOR NO KEY UPDATE:
    bookings, which only reference it, are not held up).

    The concurrency test's seams: `planned` runs once the plan is worked out and found to be
    the one shown; `UNLOCKED_FOR_THE_NEGATIVE_CONTROL` leaves the row unheld."""
    with transaction.atomic():
        if not UNLOCKED_FOR_THE_NEGATIVE_CONTROL:
            Municipality.objects.select_for_update(no_key=True).filter(pk=municipality.pk).first()
        view = backlog_view(municipality, today=today)
        result = propose(view)
        if plan_digest(view, result) != shown:
            raise plan_changed()
        planned(municipality)
        return apply_opening_proposals(
            proposals=[
                ProposedOpening(
                    site_id=p.option.site_id,
                    week_start=view.week_starts[p.week],
                    session_kind=p.option.session_kind,
                    sessions=p.sessions,
                )
                for p in result.proposals
            ],
            actor=actor,
            today=today,
            temporary_counters=tuple(-t.site_id for t in result.opened),
            slots_until=view.last_day,
        )
