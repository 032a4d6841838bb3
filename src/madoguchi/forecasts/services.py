"""Applying a planning proposal: the openings it lists become special openings and slots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.offices.calendar import SiteCalendar
from madoguchi.offices.models import Site
from madoguchi.offices.services import add_special_opening
from madoguchi.reservations.slots import regenerate_site_slots

SESSION_HOURS = {
    "weekend": (dt.time(9, 0), dt.time(12, 0)),
    "evening": (dt.time(17, 15), dt.time(19, 0)),
}
CANDIDATE_WEEKDAYS = {
    "weekend": (5, 6),  # Saturday, then Sunday
    "evening": (1, 3, 0, 2, 4),  # Tuesday and Thursday first
}


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


def _free_days(calendar: SiteCalendar, proposal: ProposedOpening) -> list[dt.date]:
    """Days of the week where the session fits: open period free at those hours, not closed."""
    starts, ends = SESSION_HOURS[proposal.session_kind]
    days = []
    for weekday in CANDIDATE_WEEKDAYS[proposal.session_kind]:
        day = proposal.week_start + dt.timedelta(days=weekday)
        site_day = calendar.day(day)
        if calendar.closed_reason(day) is not None and day.weekday() < 5:
            continue  # a weekday holiday stays closed
        if not calendar.site.is_open_on_date(day):
            continue
        if any(p.starts_at.time() < ends and p.ends_at.time() > starts for p in site_day.periods):
            continue
        days.append(day)
    return days


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
            days = [d for d in _free_days(calendar, proposal) if d > today]
            starts, ends = SESSION_HOURS[proposal.session_kind]
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
                created.append((site.name, day))
            for _ in range(proposal.sessions - len(days[: proposal.sessions])):
                skipped.append((site.name, proposal.week_start, "空いている日がありません"))
            if days:
                regenerate_site_slots(site=site, first=min(days), last=max(days), actor=actor)
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
