"""The residents' "when and how to renew" page (更新の時期と手続き), built from live data.

Everything on it comes from configuration and records, not from fixed text: the sites and their
hours this month (temporary counters, weekend and evening sessions marked), what each procedure
asks residents to bring, which sites take card applications at the counter (申請時来庁 where
offered), the accepted proxy reasons, and the usual time from application to card measured from
real hand-overs (cached; "about 1–2 months" until there are any). An optional expiry date (a GET
form, no JavaScript) gives the first day a renewal can be requested.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from madoguchi.core import clock
from madoguchi.forecasts.models import policy_for
from madoguchi.issuance.deadlines import weekly_summary
from madoguchi.issuance.models import ProxyReason
from madoguchi.offices.calendar import SiteDay
from madoguchi.offices.models import Municipality, ProcedureCode, SessionKind, SiteKind
from madoguchi.offices.selectors import SiteHours, site_hours
from madoguchi.planning.rules import renewal_window_opens_date

USUAL_TIME_CACHE_SECONDS = 3600


@dataclass(frozen=True)
class WeekdayHours:
    weekday: int  # 0 = Monday
    periods: tuple[tuple[dt.time, dt.time, str], ...]


@dataclass(frozen=True)
class SiteMonth:
    """One site this month: its regular week, dated closures and special openings."""

    hours: SiteHours
    week: tuple[WeekdayHours, ...]
    closed_days: tuple[SiteDay, ...]
    special_days: tuple[SiteDay, ...]
    is_temporary: bool
    has_evening: bool
    has_weekend: bool


def _site_month(entry: SiteHours) -> SiteMonth:
    week: dict[int, tuple[tuple[dt.time, dt.time, str], ...]] = {}
    for day in entry.days:
        regular = tuple(
            (clock.to_jst(p.starts_at).time(), clock.to_jst(p.ends_at).time(), p.kind)
            for p in day.periods
            if not p.special
        )
        if regular and day.day.weekday() not in week:
            week[day.day.weekday()] = regular
    open_weekdays = set(week)
    kinds = {kind for periods in week.values() for _start, _end, kind in periods}
    return SiteMonth(
        hours=entry,
        week=tuple(WeekdayHours(w, week[w]) for w in sorted(week)),
        closed_days=tuple(
            d
            for d in entry.days
            if not d.is_open and d.day.weekday() in open_weekdays and d.closed_reason
        ),
        special_days=tuple(d for d in entry.days if any(p.special for p in d.periods)),
        is_temporary=entry.site.kind == SiteKind.TEMPORARY,
        has_evening=SessionKind.EVENING in kinds,
        has_weekend=any(w >= 5 for w in open_weekdays) or SessionKind.WEEKEND in kinds,
    )


def usual_days_to_card(municipality: Municipality | None = None) -> int | None:
    """The median days from application to hand-over over the last eight weeks in
    `municipality` (the page's; across every municipality when None); None until a card has
    been handed over (cached)."""
    key = f"renewal:usual-days-to-card:{municipality.pk if municipality else ''}"
    cached = cache.get(key)
    if cached is not None:
        return int(cached) if cached >= 0 else None
    medians = [
        summary.median_days_to_card
        for each in ([municipality] if municipality else Municipality.objects.all())
        if (summary := weekly_summary(each)).median_days_to_card is not None
    ]
    value = round(statistics.median(medians)) if medians else None
    cache.set(key, -1 if value is None else value, USUAL_TIME_CACHE_SECONDS)
    return value


def mailed_after_application(municipality: Municipality | None) -> bool:
    """Whether the municipality offers 申請時来庁 — identity checked when applying at a counter,
    the card then mailed — read from its planning policy (a share of counter applicants above
    0 %: docs/planning-policy.md)."""
    return municipality is not None and policy_for(municipality.pk).apply_in_person_percent > 0


def renewal_page_context(
    *, expires_on: dt.date | None, municipality: Municipality | None = None
) -> dict[str, Any]:
    today = clock.today()
    first = today.replace(day=1)
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    entries = [
        e for e in site_hours(today, (next_month - today).days, municipality) if e.procedures
    ]
    procedures = sorted(
        {p for e in entries for p in e.procedures}, key=lambda p: (p.sort_order, p.code)
    )
    days = usual_days_to_card(municipality)
    return {
        "today": today,
        "month_end": next_month - dt.timedelta(days=1),
        "sites": [_site_month(e) for e in entries],
        "procedures": procedures,
        "application_sites": [
            e.site
            for e in entries
            if any(p.code == ProcedureCode.CARD_APPLICATION for p in e.procedures)
        ],
        "mailed_after_application": mailed_after_application(municipality),
        "proxy_procedures": [p for p in procedures if p.proxy_allowed],
        "proxy_reasons": [label for _value, label in ProxyReason.choices],
        "usual_weeks": round(days / 7) if days is not None else None,
        "usual_days": days,
        "expires_on": expires_on,
        "renewal_opens_on": renewal_window_opens_date(expires_on) if expires_on else None,
        "expired": expires_on is not None and expires_on < today,
    }
