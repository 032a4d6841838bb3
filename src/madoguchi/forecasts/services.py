"""Applying a planning proposal: the openings it lists become special openings and slots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.db import transaction

from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.forecasts.models import PlanningPolicy, policy_for
from madoguchi.offices.calendar import SiteCalendar
from madoguchi.offices.models import Procedure, Site, SpecialOpening
from madoguchi.offices.services import add_special_opening
from madoguchi.reservations.slots import planned_slots, regenerate_site_slots

SESSION_KINDS = ("weekend", "evening")
"""The extra sessions a backlog proposal may add (which ones: the municipality's policy)."""
WEEKEND_DAYS = (5, 6)  # Saturday, then Sunday when Saturday is taken


def session_hours(policy: PlanningPolicy, session_kind: str) -> tuple[dt.time, dt.time]:
    """Start and end of an extra session of `session_kind` under `policy`."""
    if session_kind == "weekend":
        return policy.saturday_starts_at, policy.saturday_ends_at
    return policy.evening_starts_at, policy.evening_ends_at


def session_weekdays(policy: PlanningPolicy, session_kind: str) -> tuple[int, ...]:
    """The weekdays an extra session of `session_kind` may take, in the order they are tried."""
    if session_kind == "weekend":
        return WEEKEND_DAYS
    return tuple(int(day) for day in policy.evening_weekdays)


@dataclass(frozen=True)
class ProposedOpening:
    """`sessions` sessions of `session_kind` at `site_id` in the week starting `week_start`."""

    site_id: int
    week_start: dt.date
    session_kind: str
    sessions: int


@dataclass(frozen=True)
class AppliedOpenings:
    created: list[tuple[str, dt.date]]
    skipped: list[tuple[str, dt.date, str]]


def candidate_days(
    calendar: SiteCalendar,
    *,
    session_kind: str,
    week_start: dt.date,
    today: dt.date,
    policy: PlanningPolicy,
) -> list[dt.date]:
    """The days of a week an extra session of `session_kind` would take, in the order they are
    taken: after `today`, the session's hours free, not a weekday holiday, inside the site's
    dates. The backlog's options and `apply_opening_proposals` both use it, so the seats an
    option promises are the seats applying it creates."""
    starts, ends = session_hours(policy, session_kind)
    days = []
    for weekday in session_weekdays(policy, session_kind):
        day = week_start + dt.timedelta(days=weekday)
        if day <= today:
            continue
        site_day = calendar.day(day)
        if calendar.closed_reason(day) is not None and day.weekday() < 5:
            continue  # a weekday holiday stays closed
        if not calendar.site.is_open_on_date(day):
            continue
        if any(p.starts_at.time() < ends and p.ends_at.time() > starts for p in site_day.periods):
            continue
        days.append(day)
    return days


@dataclass(frozen=True)
class SiteSlotInputs:
    """What the slot generator reads for one site, loaded once (`site_slot_inputs`)."""

    site: Site
    calendar: SiteCalendar
    procedures: list[Procedure]
    terminals: int
    counters: int
    walkin_share_percent: int


def site_slot_inputs(site: Site) -> SiteSlotInputs:
    from madoguchi.offices.selectors import offered_procedures

    return SiteSlotInputs(
        site=site,
        calendar=SiteCalendar.load(site),
        procedures=offered_procedures(site),
        terminals=site.terminals.filter(is_active=True).count(),
        counters=site.counters.filter(is_active=True).count(),
        walkin_share_percent=site.municipality.walkin_share_percent,
    )


def _seats_on(
    inputs: SiteSlotInputs, calendar: SiteCalendar, procedure_id: int, day: dt.date
) -> int:
    return sum(
        slot.capacity
        for slot in planned_slots(
            calendar,
            inputs.procedures,
            day,
            day,
            terminals=inputs.terminals,
            walkin_share_percent=inputs.walkin_share_percent,
            only=procedure_id,
        )
    )


def opening_seats(
    inputs: SiteSlotInputs,
    *,
    session_kind: str,
    day: dt.date,
    procedure_id: int,
    policy: PlanningPolicy,
) -> int:
    """The `procedure_id` seats an extra `session_kind` session on `day` creates: the slot
    generator's own plan for that day with the opening `apply_opening_proposals` would add,
    minus its plan without it (the split between procedures, terminals and walk-in share
    included)."""
    starts, ends = session_hours(policy, session_kind)
    opening = SpecialOpening(
        site=inputs.site,
        day=day,
        starts_at_time=starts,
        ends_at_time=ends,
        counters_open=inputs.counters,
    )
    opened = replace(inputs.calendar, specials=[*inputs.calendar.specials, opening])
    return _seats_on(inputs, opened, procedure_id, day) - _seats_on(
        inputs, inputs.calendar, procedure_id, day
    )


def apply_opening_proposals(
    *, proposals: list[ProposedOpening], actor: Actor, today: dt.date
) -> AppliedOpenings:
    """Create the special openings a backlog proposal lists, then the slots for them.

    All-or-nothing; each opening is audited by `add_special_opening`, the whole action once more.
    A session with no free day in its week (already open then, holiday, outside a temporary
    counter's dates) is skipped and reported. Raises DomainError when an opening is invalid.
    """
    created: list[tuple[str, dt.date]] = []
    skipped: list[tuple[str, dt.date, str]] = []
    with transaction.atomic():
        for proposal in proposals:
            site = Site.objects.select_related("municipality").get(pk=proposal.site_id)
            calendar = SiteCalendar.load(site)
            policy = policy_for(site.municipality_id)
            days = candidate_days(
                calendar,
                session_kind=proposal.session_kind,
                week_start=proposal.week_start,
                today=today,
                policy=policy,
            )
            starts, ends = session_hours(policy, proposal.session_kind)
            counters = site.counters.filter(is_active=True).count()
            for day in days[: proposal.sessions]:
                add_special_opening(
                    site=site,
                    day=day,
                    starts_at_time=starts,
                    ends_at_time=ends,
                    counters_open=counters,
                    reason="滞留対策の臨時開庁",
                    actor=actor,
                )
                # only the opened day: the seats created are exactly the seats promised
                regenerate_site_slots(site=site, first=day, last=day, actor=actor)
                created.append((site.name, day))
            for _ in range(proposal.sessions - len(days[: proposal.sessions])):
                skipped.append((site.name, proposal.week_start, "空いている日がありません"))
        record_audit_event(
            actor=actor,
            action="planning.openings.apply",
            subject_type="offices.Municipality",
            subject_id="backlog",
            after={
                "created": [(name, day.isoformat()) for name, day in created],
                "skipped": [(name, day.isoformat(), why) for name, day, why in skipped],
            },
        )
    return AppliedOpenings(created=created, skipped=skipped)
